"""Pure functions on bytes and arrays: photos, quality, meshes, DICOM, ceph geometry, video, PDF,
archives.

The contract of this layer: no database, no web, no settings object. Functions take parameters and
return dataclasses; they raise `ortholens.kit.errors.InvalidInput` with a message a user can act on,
and every parser enforces size, count and depth limits. This is the code that is benchmarked in
`bench/` against reference tools.
"""
