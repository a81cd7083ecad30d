"""Not in the worker image: its Python (workers/image/locks/worker/requirements.txt) has jsonschema without the
format extras. The development environment has this package (cyclonedx-python-lib's json-validation extra
brings it) and `import jsonschema` imports it when it can, building an Earley grammar: 1.5-3 s of CPU in every
worker process these tests start. First on the worker's path (conftest.py `worker_env`), this module makes
jsonschema skip it as it does in the image; the worker's schemas use no IRI format.
"""

raise ImportError("rfc3987_syntax is not installed in the worker image")
