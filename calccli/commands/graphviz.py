"""``calc graph --output FILE.svg|png|pdf``: DOT rendered by Graphviz's own library.

Graphviz's C library (libgvc, installed with the ``graphviz`` package) is
called in-process through ctypes: no program is started and no shell is used.
Where it is missing, the error says how to install it, or how to pipe DOT.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

from calccli.errors import CalcError, UsageError

FORMATS = ("svg", "png", "pdf")
INSTALL = ("install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; Fedora: sudo dnf install graphviz; "
           "macOS: brew install graphviz; conda: conda install graphviz), or write DOT and convert it: "
           "calc graph EXPR --format dot | dot -Tsvg > graph.svg")


class GraphvizError(CalcError):
    """Graphviz is not installed, or cannot write this format."""
    kind = "graphviz"
    exit_code = 1


def _load(name: str, candidates: tuple[str, ...]):
    for lib in candidates:
        try:
            return ctypes.CDLL(lib)
        except OSError:
            continue
    found = ctypes.util.find_library(name)
    if found:
        try:
            return ctypes.CDLL(found)
        except OSError:
            return None
    return None


_LIBS: list = []


def libraries():
    """(libgvc, libcgraph) with their signatures declared, or None where Graphviz is missing."""
    if not _LIBS:
        gvc = _load("gvc", ("libgvc.so.6", "libgvc.so", "libgvc.dylib", "libgvc.6.dylib"))
        cgraph = _load("cgraph", ("libcgraph.so.6", "libcgraph.so", "libcgraph.dylib", "libcgraph.6.dylib"))
        libs = None
        if gvc is not None and cgraph is not None:
            vp = ctypes.c_void_p
            gvc.gvContext.restype = vp
            gvc.gvContext.argtypes = []
            cgraph.agmemread.restype = vp
            cgraph.agmemread.argtypes = [ctypes.c_char_p]
            cgraph.agclose.argtypes = [vp]
            gvc.gvLayout.argtypes = [vp, vp, ctypes.c_char_p]
            gvc.gvRenderData.argtypes = [vp, vp, ctypes.c_char_p, ctypes.POINTER(vp), ctypes.POINTER(ctypes.c_uint)]
            gvc.gvFreeRenderData.argtypes = [vp]
            gvc.gvFreeLayout.argtypes = [vp, vp]
            gvc.gvFreeContext.argtypes = [vp]
            libs = (gvc, cgraph)
        _LIBS.append(libs)
    return _LIBS[0]


def render(dot: str, fmt: str) -> bytes:
    """The picture of the DOT text ``dot`` as ``fmt`` (svg, png or pdf) bytes."""
    libs = libraries()
    if libs is None:
        raise GraphvizError(f"--output needs Graphviz, which is not installed here: {INSTALL}")
    gvc, cgraph = libs
    ctx = gvc.gvContext()
    graph = cgraph.agmemread(dot.encode("utf-8"))
    if not ctx or not graph:
        raise GraphvizError("Graphviz could not read the graph")
    try:
        if gvc.gvLayout(ctx, graph, b"dot") != 0:
            raise GraphvizError("Graphviz could not lay out the graph")
        try:
            buf, size = ctypes.c_void_p(), ctypes.c_uint()
            if gvc.gvRenderData(ctx, graph, fmt.encode(), ctypes.byref(buf), ctypes.byref(size)) != 0:
                raise GraphvizError(f"this Graphviz cannot write {fmt} (a plugin is missing): try a .svg file")
            data = ctypes.string_at(buf, size.value)
            gvc.gvFreeRenderData(buf)
        finally:
            gvc.gvFreeLayout(ctx, graph)
    finally:
        cgraph.agclose(graph)
        gvc.gvFreeContext(ctx)
    return data


def write_picture(dot: str, path: str) -> str:
    """Render ``dot`` into ``path``; its ending (.svg, .png, .pdf) chooses the format."""
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lower().lstrip(".")
    if fmt not in FORMATS:
        raise UsageError(f"--output {path}: the file must end in .svg, .png or .pdf "
                         "(for DOT itself use --format dot)")
    data = render(dot, fmt)
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        raise UsageError(f"--output: cannot write {path}: {e.strerror or e}") from None
    return path
