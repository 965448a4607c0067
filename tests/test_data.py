"""Fashion-MNIST 的取得与校验：好的副本被接受，坏的文件被点名，任何情况下都不留半个文件。"""
import functools
import gzip
import http.server
import shutil
import threading

import pytest

import d2l_helpers as d2l

NAMES = list(d2l.FASHION_MNIST_FILES)
SMALL = 't10k-labels-idx1-ubyte'  # 最小的文件，适合制造损坏


@pytest.fixture(scope='module')
def good_raw():
    """仓库 data/ 中经过校验的四个原始文件。"""
    return d2l.fetch_fashion_mnist()


@pytest.fixture
def no_sources(tmp_path, monkeypatch):
    """没有系统副本，镜像也连不上（本机端口 9 上没有服务）。"""
    monkeypatch.setattr(d2l, 'SYSTEM_FASHION_MNIST', tmp_path / 'no-system-copy')
    monkeypatch.setattr(d2l, 'FASHION_MNIST_MIRROR', 'http://127.0.0.1:9/')


def raw_dir(root):
    return root / 'FashionMNIST' / 'raw'


def leftovers(root):
    """除四个正式文件外，raw 目录里残留的任何东西（临时文件、下载目录）。"""
    return sorted(p.name for p in raw_dir(root).iterdir() if p.name not in NAMES)


def copy_good(good_raw, root, names=NAMES):
    raw_dir(root).mkdir(parents=True)
    for name in names:
        shutil.copy(good_raw / name, raw_dir(root) / name)


def test_existing_good_files_are_accepted(good_raw, tmp_path, no_sources):
    copy_good(good_raw, tmp_path)
    assert d2l.fetch_fashion_mnist(tmp_path) == raw_dir(tmp_path)
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not d2l.SYSTEM_FASHION_MNIST.exists(),
                    reason='没有 Debian 包 dataset-fashion-mnist（以 root 运行 make system 安装）')
def test_system_copy_is_decompressed_and_verified(tmp_path, monkeypatch):
    monkeypatch.setattr(d2l, 'FASHION_MNIST_MIRROR', 'http://127.0.0.1:9/')
    raw = d2l.fetch_fashion_mnist(tmp_path)
    for name, (size, _) in d2l.FASHION_MNIST_FILES.items():
        assert (raw / name).stat().st_size == size
        d2l._check_file(raw / name)
    assert leftovers(tmp_path) == []


def test_download_from_mirror_is_verified(good_raw, tmp_path, no_sources, monkeypatch):
    """把 .gz 文件放在本机的 HTTP 服务上，充当官方镜像。"""
    site = tmp_path / 'mirror'
    site.mkdir()
    for name in NAMES:
        with open(good_raw / name, 'rb') as src, gzip.open(site / (name + '.gz'), 'wb') as dst:
            shutil.copyfileobj(src, dst)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(d2l, 'FASHION_MNIST_MIRROR', f'http://127.0.0.1:{server.server_port}/')
        raw = d2l.fetch_fashion_mnist(tmp_path / 'book')
    finally:
        server.shutdown()
    for name in NAMES:
        d2l._check_file(raw / name)
    assert leftovers(tmp_path / 'book') == []


def test_corrupted_file_is_named_with_the_fix(good_raw, tmp_path, no_sources):
    copy_good(good_raw, tmp_path)
    bad = raw_dir(tmp_path) / SMALL
    content = bytearray(bad.read_bytes())
    content[-1] ^= 0xFF  # 大小不变，内容变了
    bad.write_bytes(bytes(content))
    with pytest.raises(d2l.DataError) as err:
        d2l.fetch_fashion_mnist(tmp_path)
    message = str(err.value)
    assert str(bad) in message and 'SHA-256' in message
    assert '删除' in message and 'make data' in message


def test_truncated_file_is_named_with_the_fix(good_raw, tmp_path, no_sources):
    copy_good(good_raw, tmp_path)
    bad = raw_dir(tmp_path) / SMALL
    bad.write_bytes(bad.read_bytes()[:1000])
    with pytest.raises(d2l.DataError) as err:
        d2l.fetch_fashion_mnist(tmp_path)
    message = str(err.value)
    assert str(bad) in message and '截断' in message and 'make data' in message


def test_missing_file_without_sources_lists_the_three_ways(good_raw, tmp_path, no_sources):
    copy_good(good_raw, tmp_path, names=NAMES[:-1])
    with pytest.raises(d2l.DataError) as err:
        d2l.fetch_fashion_mnist(tmp_path)
    message = str(err.value)
    assert NAMES[-1] in message
    assert 'dataset-fashion-mnist' in message and str(raw_dir(tmp_path)) in message
    assert '127.0.0.1:9' in message and 'make data' in message
    assert not (raw_dir(tmp_path) / NAMES[-1]).exists()
    assert leftovers(tmp_path) == []


def test_broken_system_copy_leaves_no_file(good_raw, tmp_path, no_sources, monkeypatch):
    system = tmp_path / 'system'
    system.mkdir()
    with open(good_raw / SMALL, 'rb') as src, gzip.open(system / (SMALL + '.gz'), 'wb') as dst:
        shutil.copyfileobj(src, dst)
    truncated = (system / (SMALL + '.gz')).read_bytes()[:-20]
    (system / (SMALL + '.gz')).write_bytes(truncated)
    monkeypatch.setattr(d2l, 'SYSTEM_FASHION_MNIST', system)
    copy_good(good_raw, tmp_path / 'book', names=[n for n in NAMES if n != SMALL])
    with pytest.raises(d2l.DataError) as err:
        d2l.fetch_fashion_mnist(tmp_path / 'book')
    assert str(system / (SMALL + '.gz')) in str(err.value)
    assert not (raw_dir(tmp_path / 'book') / SMALL).exists()
    assert leftovers(tmp_path / 'book') == []


def test_interrupted_copy_leaves_no_file(good_raw, tmp_path, no_sources, monkeypatch):
    system = tmp_path / 'system'
    system.mkdir()
    with open(good_raw / SMALL, 'rb') as src, gzip.open(system / (SMALL + '.gz'), 'wb') as dst:
        shutil.copyfileobj(src, dst)
    monkeypatch.setattr(d2l, 'SYSTEM_FASHION_MNIST', system)
    copy_good(good_raw, tmp_path / 'book', names=[n for n in NAMES if n != SMALL])

    def interrupted(src, dst, *args):
        dst.write(src.read(100))
        raise KeyboardInterrupt  # 例如用户按了 Ctrl-C

    monkeypatch.setattr(d2l.shutil, 'copyfileobj', interrupted)
    with pytest.raises(KeyboardInterrupt):
        d2l.fetch_fashion_mnist(tmp_path / 'book')
    assert not (raw_dir(tmp_path / 'book') / SMALL).exists()
    assert leftovers(tmp_path / 'book') == []


def test_data_dir_does_not_depend_on_working_directory(tmp_path, monkeypatch):
    # 在课程仓库里、没有设 D2L_DATA_DIR 时，数据目录是仓库的 data/，从哪个目录运行都一样
    monkeypatch.delenv('D2L_DATA_DIR', raising=False)
    monkeypatch.chdir(tmp_path)
    assert d2l._choose_data_dir() == d2l.ROOT / 'data'
    assert (d2l.ROOT / 'd2l_helpers.py').exists() and (d2l.ROOT / d2l.CHECKOUT_MARKER).exists()
