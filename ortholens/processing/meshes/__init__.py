"""Intraoral 3D scans: reading scanner exports, measuring and classifying arches, deriving web
meshes and thumbnails, and writing exports. Pure functions over `trimesh.Trimesh`; no database."""
