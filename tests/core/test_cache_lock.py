"""Several processes compiling into one kernel cache: Numba's index and data files stay paired."""
import subprocess
import sys
import textwrap

_WRITER = textwrap.dedent("""
    import sys
    from numba.core.caching import IndexDataCacheFile
    if sys.argv[3] == "locked":
        from nnplay.core.kernels import _cache_lock
        assert _cache_lock.install()
    folder, who = sys.argv[1], sys.argv[2]
    index = IndexDataCacheFile(folder, "kernel", ("stamp", 1))
    print("ready", flush=True)
    sys.stdin.read(1)                         # both start saving at the same moment, however slow the imports
    for i in range(150):                      # 150 new signatures of one kernel, as a compile would save them
        index.save((who, i), (who, i))
""")


def _race(folder, mode):
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(folder), who, mode], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True) for who in "AB"]
    assert [w.stdout.readline().strip() for w in writers] == ["ready", "ready"]
    for w in writers:
        w.stdin.write("g")
        w.stdin.close()
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    from numba.core.caching import IndexDataCacheFile
    index = IndexDataCacheFile(str(folder), "kernel", ("stamp", 1))
    entries = index._load_index()
    wrong = [key for key in entries if index.load(key) != key]
    return entries, wrong


def test_two_processes_saving_signatures_of_one_kernel_never_pair_an_entry_with_the_others_code(tmp_path):
    entries, wrong = _race(tmp_path, "locked")
    assert wrong == []
    assert len(entries) == 300                # and no entry is lost either


def test_the_race_is_real_without_the_lock(tmp_path):
    """The same two writers without the lock lose entries or pair them wrongly (what the lock is for)."""
    lost_or_wrong = 0
    for attempt in range(3):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        entries, wrong = _race(folder, "bare")
        lost_or_wrong += len(wrong) + (300 - len(entries))
        if lost_or_wrong:
            break
    assert lost_or_wrong > 0


def test_a_save_waits_while_another_process_holds_the_folder(tmp_path):
    import threading

    from numba.core.caching import IndexDataCacheFile

    from nnplay.core.kernels import _cache_lock
    assert _cache_lock.install()
    index = IndexDataCacheFile(str(tmp_path), "kernel", ("stamp", 1))
    done = threading.Event()
    with _cache_lock.locked(str(tmp_path), exclusive=True):
        saver = threading.Thread(target=lambda: (index.save("k", "v"), done.set()))
        saver.start()
        assert not done.wait(0.3)             # blocked behind the lock
    saver.join(10)
    assert done.is_set() and index.load("k") == "v"


def test_where_no_lock_file_can_be_made_the_block_runs_without_a_lock(tmp_path):
    """A missing folder, or an index without a folder attribute: Numba's own load or save decides."""
    from nnplay.core.kernels import _cache_lock
    ran = []
    with _cache_lock.locked(str(tmp_path / "missing"), exclusive=True):
        ran.append("missing")
    with _cache_lock.locked(None, exclusive=False):
        ran.append("none")
    assert ran == ["missing", "none"] and not (tmp_path / "missing").exists()


def test_a_file_system_that_refuses_locks_still_loads_and_saves(tmp_path, monkeypatch):
    from numba.core.caching import IndexDataCacheFile

    from nnplay.core.kernels import _cache_lock
    assert _cache_lock.install()

    def refuse(fd, op):
        raise OSError(37, "No locks available")
    monkeypatch.setattr(_cache_lock.fcntl, "flock", refuse)
    index = IndexDataCacheFile(str(tmp_path), "kernel", ("stamp", 1))
    index.save("k", "v")
    assert index.load("k") == "v"
