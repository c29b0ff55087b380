"""Intraoral 3D scans in the imaging record (seed 001): import, patient matching and the pending
queue, arch detection, bite linking, derived web meshes and thumbnails, export and the iTero
connector. The geometry itself is `ortholens.processing.meshes`; this package is the record."""
