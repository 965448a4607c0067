"""make 的准备步骤：读者可能弄坏的东西（.venv、数据文件）得到一句说明，而不是 Python 回溯。"""
import shutil
import subprocess
import sys

from conftest import ROOT
from test_data import NAMES, SMALL


def run(command, cwd):
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout + result.stderr


def checkout_with_venv(tmp_path, helpers_dir):
    """一个只有 Makefile 和 d2l_helpers.py 的检出，.venv 里的 d2l_helpers 指向 helpers_dir。"""
    checkout = tmp_path / 'checkout'
    checkout.mkdir()
    shutil.copy(ROOT / 'Makefile', checkout)
    shutil.copy(ROOT / 'd2l_helpers.py', checkout)
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(checkout / '.venv')], check=True)
    site = next((checkout / '.venv' / 'lib').glob('python3*/site-packages'))
    (site / 'course.pth').write_text(str(helpers_dir) + '\n')  # 可编辑安装就是这样一行路径
    script = checkout / '.venv' / 'bin' / 'jupyter-book'
    script.write_text(f'#!{checkout}/.venv/bin/python\n')
    return checkout


def test_a_venv_of_this_checkout_is_kept(tmp_path):
    checkout = checkout_with_venv(tmp_path, helpers_dir=tmp_path / 'checkout')
    code, output = run(['make', '--no-print-directory', 'venv'], checkout)
    assert code == 0 and output == '', output
    assert (checkout / '.venv').exists()


def test_a_venv_of_another_checkout_is_reinstalled(tmp_path):
    other = tmp_path / 'moved-away'
    other.mkdir()
    shutil.copy(ROOT / 'd2l_helpers.py', other)
    checkout = checkout_with_venv(tmp_path, helpers_dir=other)
    code, output = run(['make', '--no-print-directory', 'venv'], checkout)
    assert code == 0, output
    assert '另一个目录' in output and str(other) in output and len(output.strip().splitlines()) == 1, output
    assert not (checkout / '.venv').exists(), '坏掉的 .venv 应当被删除，好让下一步重新安装'


def test_a_venv_whose_scripts_point_elsewhere_is_reinstalled(tmp_path):
    checkout = checkout_with_venv(tmp_path, helpers_dir=tmp_path / 'checkout')
    (checkout / '.venv' / 'bin' / 'jupyter-book').write_text('#!/somewhere/else/.venv/bin/python\n')
    code, output = run(['make', '--no-print-directory', 'venv'], checkout)
    assert code == 0 and '已损坏' in output, output
    assert not (checkout / '.venv').exists()


def test_a_venv_without_the_course_yet_is_kept_and_completed(tmp_path):
    # CI 先在 .venv 里装 CPU 版的 torch，再运行 make：这样的 .venv 不能删，只是还要补装
    checkout = checkout_with_venv(tmp_path, helpers_dir=tmp_path / 'nowhere')
    (checkout / '.venv' / 'bin' / 'jupyter-book').unlink()
    (checkout / '.venv' / '.installed').touch()
    code, output = run(['make', '--no-print-directory', 'venv'], checkout)
    assert code == 0 and output == '', output
    assert (checkout / '.venv' / 'bin' / 'python').exists()
    assert not (checkout / '.venv' / '.installed').exists(), '没装好的 .venv 不能算已安装'


def test_a_broken_venv_is_reinstalled(tmp_path):
    checkout = checkout_with_venv(tmp_path, helpers_dir=tmp_path / 'checkout')
    (checkout / '.venv' / 'bin' / 'python').unlink()
    code, output = run(['make', '--no-print-directory', 'venv'], checkout)
    assert code == 0 and '已损坏' in output, output
    assert not (checkout / '.venv').exists()


def test_too_old_a_python_is_named_before_anything_is_installed(tmp_path):
    checkout = tmp_path / 'checkout'
    checkout.mkdir()
    for name in ('Makefile', 'requirements.txt', 'requirements.lock', 'pyproject.toml'):
        shutil.copy(ROOT / name, checkout)
    old = tmp_path / 'python3.9'
    old.write_text('#!/bin/sh\nif [ "$1" = --version ]; then echo "Python 3.9.2"; exit 0; fi\nexit 1\n')
    old.chmod(0o755)
    code, output = run(['make', '--no-print-directory', '.venv/.installed', f'PYTHON={old}'], checkout)
    assert code != 0 and '需要 Python 3.11 或更新' in output and 'Python 3.9.2' in output, output
    assert not (checkout / '.venv').exists()


def test_make_data_names_a_corrupted_file_without_a_traceback(tmp_path):
    # python -m d2l_helpers 就是 make data 运行的命令；在检出里（模块旁边有 _toc.yml）数据目录是模块旁边的 data/
    shutil.copy(ROOT / 'd2l_helpers.py', tmp_path)
    (tmp_path / '_toc.yml').touch()
    raw = tmp_path / 'data' / 'FashionMNIST' / 'raw'
    raw.mkdir(parents=True)
    for name in NAMES:
        shutil.copy(ROOT / 'data' / 'FashionMNIST' / 'raw' / name, raw)
    with open(raw / SMALL, 'ab') as f:
        f.write(b'\0')
    code, output = run([str(ROOT / '.venv' / 'bin' / 'python'), '-m', 'd2l_helpers'], tmp_path)
    assert code == 1, output
    assert 'Traceback' not in output, output
    assert str(raw / SMALL) in output and 'make data' in output, output
