"""The access project (viberator-access): CI's authority as code.

access/jobs.py says who (each workflow job, its OIDC subject, its role: the table access/jobs.toml),
access/actions.py what (each role's actions, with the tool that calls them); access/policies.py makes the documents
from both, and the components (aws_access.py, github.py) register them. `make plan PROJECT=access
STACK=dev|prod|github` plans them.
"""
