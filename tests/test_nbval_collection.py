"""`pytest --nbval chapters` 收集 MyST 页面（不收集 _build 里的副本），并遵守单元格标签。"""
import shutil
import subprocess
import sys

from conftest import FRONT_MATTER, ROOT, code_cell


def run_pytest(project, *args):
    result = subprocess.run([sys.executable, '-m', 'pytest', *args], cwd=project,
                            capture_output=True, text=True, timeout=300)
    return result.returncode, result.stdout + result.stderr


def make_project(tmp_path, *cells):
    """临时项目：本仓库的 conftest.py 和 pytest.ini，一个章节页面，以及 _build 里的副本。"""
    for name in ('conftest.py', 'pytest.ini'):
        shutil.copy(ROOT / name, tmp_path)
    page = FRONT_MATTER + '\n# 页面\n\n' + '\n'.join(cells)
    chapter = tmp_path / 'chapters' / 'demo'
    chapter.mkdir(parents=True)
    (chapter / 'page.md').write_text(page, encoding='utf-8')
    (chapter / 'notes.md').write_text('# 普通的 Markdown，没有 jupytext 头信息\n', encoding='utf-8')
    copy = tmp_path / 'chapters' / '_build' / 'jupyter_execute'
    copy.mkdir(parents=True)
    (copy / 'page.md').write_text(page, encoding='utf-8')
    return tmp_path


def test_collects_every_code_cell_of_myst_pages_only(tmp_path):
    project = make_project(tmp_path, code_cell('x = 1'), code_cell('y = x + 1'))
    code, output = run_pytest(project, '--nbval', '--collect-only', '-q', 'chapters')
    assert code == 0, output
    items = [line for line in output.splitlines() if '::' in line]
    assert items == ['chapters/demo/page.md::Cell 0', 'chapters/demo/page.md::Cell 1'], output


def test_failure_is_reported_as_page_and_cell(tmp_path):
    project = make_project(tmp_path, code_cell('x = 1'), code_cell("raise ValueError('boom')"))
    code, output = run_pytest(project, '--nbval', 'chapters')
    assert code != 0
    assert 'chapters/demo/page.md::Cell 1' in output and 'boom' in output


def test_cells_run_in_the_page_folder_and_honour_tags(tmp_path):
    project = make_project(
        tmp_path,
        code_cell("import pathlib\nassert pathlib.Path.cwd().name == 'demo'"),
        code_cell("raise ValueError('expected')", tags=['raises-exception']),
        code_cell("raise SystemExit('must not run')", tags=['skip-execution']),
    )
    code, output = run_pytest(project, '--nbval', '-v', 'chapters')
    assert code == 0, output
    assert 'Cell 2 SKIPPED' in output, output


def test_lax_mode_collects_pages_too(tmp_path):
    project = make_project(tmp_path, code_cell('x = 1'))
    code, output = run_pytest(project, '--nbval-lax', '-q', 'chapters')
    assert code == 0 and '1 passed' in output, output
