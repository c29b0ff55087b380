"""HTTP endpoints of the local object store: signed uploads and downloads.

With the S3 backend clients talk to S3 directly through presigned URLs and these routes answer 404.
"""
