"""Worker images: the harness catalog, the naming rules, and the local image tooling.

The Docker build context lives in `workers/image/` (Dockerfile, worker runtime); everything else in this
package runs on the developer's machine or inside the Pulumi program, never inside an image.
"""
