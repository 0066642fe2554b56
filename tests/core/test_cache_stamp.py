"""A kernel's cache entry must go stale when any kernel source changes, not only the file that defines it:
a kernel that calls kernels of other files carries their machine code in its own entry."""
import os

import numpy as np

from nnplay.core.kernels import _cache_stamp, conv_chain, mlp
from nnplay.core.kernels._jit import jit


def test_every_kernel_is_stamped_with_the_whole_package():
    stamp = _cache_stamp.package_stamp()
    for kernel in (conv_chain.conv_chain_range, mlp.mlp_train_step):
        locator = kernel._cache._impl._locator
        assert locator.get_source_stamp() == stamp, type(locator).__name__


def test_the_package_stamp_follows_any_file_and_a_function_outside_keeps_its_own(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    monkeypatch.setattr(_cache_stamp, "KERNELS", str(tmp_path))
    monkeypatch.setattr(_cache_stamp, "_last", [0.0, b""])
    first = _cache_stamp.package_stamp()
    assert _cache_stamp.package_stamp() == first
    (tmp_path / "sub" / "b.py").write_text("y = 3\n")          # another file of the package changed
    os.utime(tmp_path / "sub" / "b.py", ns=(1, 1))
    _cache_stamp._last[0] = 0.0                                  # a second later
    assert _cache_stamp.package_stamp() != first

    def outside(v):
        return v + 1

    kernel = jit(outside)      # defined in this test file, not in the kernel package: Numba's own stamp
    assert kernel(np.float64(1.0)) == 2.0
    assert not type(kernel._cache._impl._locator).__name__.startswith("NnplayStamped")
