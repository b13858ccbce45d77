"""Mesh files: PLY (binary little-endian, with normals and 8-bit colours), OBJ (text, with
``vn`` normals and per-vertex colours as ``v x y z r g b``), STL (binary, facet normals), all
three by our own writers (float32 exactly as computed, no Open3D needed, and faster for large
grids); GLB / glTF and OFF through Open3D's writers and readers (a dependency already).

:func:`load_mesh` reads these back (PLY binary/ASCII with float/int/uchar vertex properties
and triangle faces, OBJ ``v``/``vn``/``f`` with triangles or polygons fanned, binary or ASCII
STL with identical corners merged), enough to check an export and to open meshes in the
workbench; it is not a general-purpose mesh library. Writes are atomic and never replace an
existing file unless ``overwrite``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import struct
from pathlib import Path

import numpy as np

from ..errors import FileFormatError, InputError
from ..io.atomic import atomic_path
from .mesh import Mesh, to_open3d

__all__ = ["MESH_EXTENSIONS", "OPEN3D_EXTENSIONS", "save_mesh", "load_mesh"]

MESH_EXTENSIONS: tuple[str, ...] = (".ply", ".obj", ".stl", ".glb", ".gltf", ".off")
#: Written and read through Open3D.
OPEN3D_EXTENSIONS = frozenset({".glb", ".gltf", ".off"})
_PLY_TYPES = {"char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2",
              "int16": "i2", "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4",
              "uint": "u4", "uint32": "u4", "float": "f4", "float32": "f4", "double": "f8",
              "float64": "f8"}


def _ext(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in MESH_EXTENSIONS:
        raise InputError(f"{path.name}: mesh files must be {', '.join(MESH_EXTENSIONS)}")
    return ext


def _write_ply(mesh: Mesh, f) -> None:
    n, m = len(mesh.vertices), len(mesh.triangles)
    fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4")]
    if mesh.normals is not None:
        fields += [("nx", "<f4"), ("ny", "<f4"), ("nz", "<f4")]
    if mesh.colors is not None:
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
    v = np.empty(n, dtype=fields)
    for i, k in enumerate("xyz"):
        v[k] = mesh.vertices[:, i]
    if mesh.normals is not None:
        for i, k in enumerate(("nx", "ny", "nz")):
            v[k] = mesh.normals[:, i]
    if mesh.colors is not None:
        c = np.clip(np.round(mesh.colors * 255), 0, 255).astype(np.uint8)
        for i, k in enumerate(("red", "green", "blue")):
            v[k] = c[:, i]
    names = {"<f4": "float", "u1": "uchar"}
    head = ["ply", "format binary_little_endian 1.0", "comment SR Workbench",
            f"element vertex {n}"] + [f"property {names[t]} {k}" for k, t in fields] + [
            f"element face {m}", "property list uchar int vertex_indices", "end_header"]
    f.write(("\n".join(head) + "\n").encode("ascii"))
    f.write(v.tobytes())
    faces = np.empty(m, dtype=[("n", "u1"), ("i", "<i4", (3,))])
    faces["n"] = 3
    faces["i"] = mesh.triangles
    f.write(faces.tobytes())


def _write_obj(mesh: Mesh, f) -> None:
    lines = ["# SR Workbench"]
    v = mesh.vertices.astype(np.float64)
    if mesh.colors is not None:
        vc = np.concatenate([v, mesh.colors.astype(np.float64)], axis=1)
        lines += [f"v {a:.7g} {b:.7g} {c:.7g} {r:.4f} {g:.4f} {bb:.4f}" for a, b, c, r, g, bb in vc]
    else:
        lines += [f"v {a:.7g} {b:.7g} {c:.7g}" for a, b, c in v]
    t = mesh.triangles.astype(np.int64) + 1
    if mesh.normals is not None:
        lines += [f"vn {a:.6f} {b:.6f} {c:.6f}" for a, b, c in mesh.normals.astype(np.float64)]
        lines += [f"f {a}//{a} {b}//{b} {c}//{c}" for a, b, c in t]
    else:
        lines += [f"f {a} {b} {c}" for a, b, c in t]
    f.write(("\n".join(lines) + "\n").encode("ascii"))


def _write_stl(mesh: Mesh, f) -> None:
    v = mesh.vertices.astype(np.float32)
    t = mesh.triangles.astype(np.int64)
    p0, p1, p2 = v[t[:, 0]], v[t[:, 1]], v[t[:, 2]]
    fn = np.cross(p1 - p0, p2 - p0)
    fn /= np.maximum(np.linalg.norm(fn, axis=1, keepdims=True), 1e-30)
    rec = np.zeros(len(t), dtype=[("n", "<f4", (3,)), ("v", "<f4", (3, 3)), ("a", "<u2")])
    rec["n"] = fn
    rec["v"] = np.stack([p0, p1, p2], axis=1)
    f.write(b"SR Workbench binary STL".ljust(80, b" "))
    f.write(np.uint32(len(t)).tobytes())
    f.write(rec.tobytes())


def _write_open3d(mesh: Mesh, tmp: Path) -> None:
    """glTF/OFF by Open3D (the temp file keeps the extension, which picks the format). GLB:
    Open3D 0.20 writes GLB files without their binary chunk, so its glTF (one embedded
    base64 buffer) is packed into a GLB here."""
    import open3d as o3d

    out = to_open3d(mesh)
    ext = tmp.suffix.lower()
    if ext in (".glb", ".gltf") and mesh.normals is None:
        out.compute_vertex_normals()   # glTF viewers light a mesh by its normals
    target = tmp.with_suffix(".gltf") if ext == ".glb" else tmp
    try:
        if not o3d.io.write_triangle_mesh(str(target), out, write_ascii=False,
                                          print_progress=False):
            raise OSError(f"Open3D could not write {ext} files")
        if ext == ".glb":
            tmp.write_bytes(_gltf_to_glb(target.read_bytes()))
    finally:
        if target != tmp:
            target.unlink(missing_ok=True)


def _gltf_to_glb(gltf: bytes) -> bytes:
    """A glTF with one ``data:`` URI buffer -> the same as binary glTF (GLB 2.0)."""
    doc = json.loads(gltf)
    (buf,) = doc["buffers"]
    data = base64.b64decode(buf.pop("uri").split(",", 1)[1])
    payload = json.dumps(doc, separators=(",", ":")).encode()
    payload += b" " * (-len(payload) % 4)
    data += b"\0" * (-len(data) % 4)
    chunks = (struct.pack("<II", len(payload), 0x4E4F534A) + payload
              + struct.pack("<II", len(data), 0x004E4942) + data)
    return struct.pack("<III", 0x46546C67, 2, 12 + len(chunks)) + chunks


def _read_open3d(path: Path) -> Mesh:
    import open3d as o3d

    m = o3d.io.read_triangle_mesh(str(path), print_progress=False)
    if len(m.vertices) == 0:
        raise FileFormatError(f"{path.name} could not be read as a mesh (Open3D found no vertices)")
    return Mesh(np.asarray(m.vertices, dtype=np.float32), np.asarray(m.triangles, dtype=np.int32),
                normals=np.asarray(m.vertex_normals, dtype=np.float32)
                if m.has_vertex_normals() else None,
                colors=np.asarray(m.vertex_colors, dtype=np.float32)
                if m.has_vertex_colors() else None)


def save_mesh(mesh: Mesh, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``mesh`` as PLY, OBJ or STL (from the extension), atomically; returns the path.

    STL keeps only the geometry (no normals or colours per vertex).
    """
    p = Path(path)
    ext = _ext(p)
    if p.exists() and not overwrite:
        raise InputError(f"{p} already exists; refusing to replace it")
    try:
        if ext in OPEN3D_EXTENSIONS:
            with atomic_path(p, overwrite=overwrite) as tmp:
                _write_open3d(mesh, tmp)
            return p
        writer = {".ply": _write_ply, ".obj": _write_obj, ".stl": _write_stl}[ext]
        with atomic_path(p, overwrite=overwrite) as tmp, open(tmp, "wb") as f:
            writer(mesh, f)
    except OSError as exc:
        raise InputError(f"cannot write {p}: {exc.strerror or exc}") from exc
    return p


def _read_ply(data: bytes, name: str) -> Mesh:
    end = data.find(b"end_header")
    if not data.startswith(b"ply") or end < 0:
        raise FileFormatError(f"{name} is not a PLY file")
    body = data[data.index(b"\n", end) + 1:]
    head = data[:end].decode("ascii", "replace").splitlines()
    fmt = next((ln.split()[1] for ln in head if ln.startswith("format")), "")
    elements: list[tuple[str, int, list]] = []
    for ln in head:
        tok = ln.split()
        if tok[:1] == ["element"]:
            elements.append((tok[1], int(tok[2]), []))
        elif tok[:1] == ["property"] and elements:
            elements[-1][2].append(tok[1:])
    verts = faces = None
    props: dict[str, np.ndarray] = {}
    if fmt == "ascii":
        rows = body.decode("ascii").split("\n")
        pos = 0
        for el, count, plist in elements:
            chunk = rows[pos:pos + count]
            pos += count
            if el == "vertex":
                arr = np.array([r.split() for r in chunk], dtype=np.float64).reshape(count, -1)
                props = {p[-1]: arr[:, i] for i, p in enumerate(plist)}
            elif el == "face":
                faces = [list(map(int, r.split()[1:])) for r in chunk]
    elif fmt == "binary_little_endian":
        off = 0
        for el, count, plist in elements:
            if el == "face" and plist and plist[0][0] == "list":
                cnt_t, idx_t = "<" + _PLY_TYPES[plist[0][1]], "<" + _PLY_TYPES[plist[0][2]]
                k = int(np.frombuffer(body, cnt_t, 1, off)[0]) if count else 3
                dt = np.dtype([("n", cnt_t), ("i", idx_t, (k,))])
                rec = np.frombuffer(body, dt, count, off)
                if count and (rec["n"] != k).any():
                    raise FileFormatError(f"{name}: mixed polygon sizes are not supported")
                faces = rec["i"]
                off += dt.itemsize * count
            else:
                dt = np.dtype([(p[-1], "<" + _PLY_TYPES[p[0]]) for p in plist])
                rec = np.frombuffer(body, dt, count, off)
                off += dt.itemsize * count
                if el == "vertex":
                    props = {k: rec[k].astype(np.float64) for k in dt.names}
    else:
        raise FileFormatError(f"{name}: PLY format {fmt!r} is not supported")
    try:
        verts = np.stack([props["x"], props["y"], props["z"]], 1)
    except KeyError:
        raise FileFormatError(f"{name} has no x/y/z vertex coordinates") from None
    normals = np.stack([props[k] for k in ("nx", "ny", "nz")], 1) if "nx" in props else None
    colors = (np.stack([props[k] for k in ("red", "green", "blue")], 1) / 255.0
              if "red" in props else None)
    tris = _fan(faces)
    return Mesh(verts.astype(np.float32), tris,
                None if normals is None else normals.astype(np.float32),
                None if colors is None else colors.astype(np.float32))


def _fan(faces) -> np.ndarray:
    if faces is None:
        return np.zeros((0, 3), dtype=np.int32)
    if isinstance(faces, np.ndarray) and faces.ndim == 2 and faces.shape[1] == 3:
        return faces.astype(np.int32)
    out = [(f[0], f[i], f[i + 1]) for f in faces for i in range(1, len(f) - 1)]
    return np.array(out, dtype=np.int32).reshape(-1, 3)


def _read_obj(data: bytes) -> Mesh:
    v, vn, faces = [], [], []
    for ln in data.decode("utf-8", "replace").splitlines():
        tok = ln.split()
        if not tok:
            continue
        if tok[0] == "v":
            v.append([float(x) for x in tok[1:7]])
        elif tok[0] == "vn":
            vn.append([float(x) for x in tok[1:4]])
        elif tok[0] == "f":
            faces.append([int(x.split("/")[0]) - 1 for x in tok[1:]])
    va = np.array(v, dtype=np.float64).reshape(len(v), -1)
    colors = va[:, 3:6].astype(np.float32) if va.shape[1] >= 6 else None
    normals = np.array(vn, dtype=np.float32) if len(vn) == len(v) and vn else None
    return Mesh(va[:, :3].astype(np.float32), _fan(faces), normals, colors)


def _read_stl(data: bytes, name: str) -> Mesh:
    if len(data) >= 84:
        n = int(np.frombuffer(data, "<u4", 1, 80)[0])
        if 84 + 50 * n == len(data):
            rec = np.frombuffer(data, [("n", "<f4", (3,)), ("v", "<f4", (3, 3)), ("a", "<u2")],
                                n, 84)
            corners = rec["v"].reshape(-1, 3)
            return _merge(corners)
    text = data.decode("ascii", "replace")
    if not text.lstrip().startswith("solid"):
        raise FileFormatError(f"{name} is not an STL file")
    nums = re.findall(r"vertex\s+(\S+)\s+(\S+)\s+(\S+)", text)
    return _merge(np.array(nums, dtype=np.float32).reshape(-1, 3))


def _merge(corners: np.ndarray) -> Mesh:
    verts, inv = np.unique(corners, axis=0, return_inverse=True)
    return Mesh(verts.astype(np.float32), inv.reshape(-1, 3).astype(np.int32))


def load_mesh(path: str | os.PathLike[str]) -> Mesh:
    """Read a PLY, OBJ or STL mesh (see the module docstring for what is supported)."""
    p = Path(path)
    ext = _ext(p)
    if not p.is_file():
        raise InputError(f"{p} does not exist")
    if ext in OPEN3D_EXTENSIONS:
        return _read_open3d(p)
    data = p.read_bytes()
    try:
        if ext == ".ply":
            return _read_ply(data, p.name)
        if ext == ".obj":
            return _read_obj(data)
        return _read_stl(data, p.name)
    except (ValueError, IndexError, KeyError) as exc:
        raise FileFormatError(f"{p.name} could not be read as a mesh: {exc}") from exc
