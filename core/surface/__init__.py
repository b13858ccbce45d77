"""Surfaces from normal maps: integration (FC, DCT, masked least squares, bilateral), meshes as
numpy arrays, mesh files and a small software renderer. Qt-free; Open3D is imported only by
:func:`to_open3d`.

Frame everywhere: x right, y up, z towards the camera (as the normals).
"""

from .geometry import Surface, equations, scale_intrinsics
from .integrate import DEFAULT_METHOD, METHODS, integrate, integrate_sync, made
from .mesh import Mesh, grid_triangles, mesh_from_surface, scalar_colors, to_open3d, vertex_normals
from .meshio import MESH_EXTENSIONS, load_mesh, save_mesh
from .render import render_mesh, view_rotation

__all__ = [
    "Surface", "equations", "scale_intrinsics", "METHODS", "DEFAULT_METHOD", "integrate",
    "integrate_sync", "made",
    "Mesh", "mesh_from_surface", "grid_triangles", "vertex_normals", "scalar_colors",
    "to_open3d", "MESH_EXTENSIONS", "save_mesh", "load_mesh", "render_mesh", "view_rotation",
]
