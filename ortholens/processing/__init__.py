"""Pure functions on bytes and arrays: photos (`photo_types`, `photo_decoders`, `photos`),
their quality and view (`quality`, `views`), and intraoral meshes (`meshes/`). The next
capabilities (DICOM, ceph geometry, video, PDF, archives) add their modules here.

The contract of this layer: no database, no web, no settings object, and of `kit` only its errors
(checked by the `pure-processing` import contract). Functions take parameters and return
dataclasses; they raise `ortholens.kit.errors.InvalidInput` with a message a user can act on, and
every parser enforces size, count and depth limits. This is the code that is benchmarked in
`bench/` against reference tools.
"""
