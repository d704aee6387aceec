"""Build the native core `vecsearch._core`.

Build switches (environment variables):
  VECSEARCH_NATIVE=1  compile with -march=native (the wheel then only runs on this CPU family)
  VECSEARCH_ASAN=1    AddressSanitizer + UndefinedBehaviorSanitizer build (-O1 -g), for CI and fuzzing
  VECSEARCH_DEBUG=1   -O0 -g, assertions on

The default build is portable x86-64: SIMD kernels carry function-level target attributes and one
is chosen at import time (see csrc/simd/cpu.cpp).
"""
import glob
import os

from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
from setuptools import setup

ParallelCompile("VECSEARCH_BUILD_JOBS", default=2).install()


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


compile_args = ["-fvisibility=hidden", "-fno-math-errno", "-Wall", "-Wextra", "-Wno-unused-parameter"]
link_args: list = []
if _flag("VECSEARCH_ASAN"):
    sanitize = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined"]
    compile_args += ["-O1", "-g"] + sanitize
    link_args += sanitize
elif _flag("VECSEARCH_DEBUG"):
    compile_args += ["-O0", "-g"]
else:
    compile_args += ["-O3", "-DNDEBUG"]
if _flag("VECSEARCH_NATIVE"):
    compile_args.append("-march=native")

sources = sorted(glob.glob("csrc/**/*.cpp", recursive=True))
# Headers count as dependencies: editing only a .h (inline kernels, templates) must rebuild.
headers = sorted(glob.glob("csrc/**/*.h", recursive=True))

ext = Pybind11Extension(
    "vecsearch._core",
    sources,
    depends=headers,
    include_dirs=["csrc"],
    cxx_std=17,
    extra_compile_args=compile_args,
    extra_link_args=link_args + ["-pthread"],
)

setup(ext_modules=[ext], cmdclass={"build_ext": build_ext})
