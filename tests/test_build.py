"""严格构建：单元格出错或写 stderr 时 make book 失败，并指出是哪一页；页面并行执行。"""
import json
import os
import re
import shutil
import subprocess

import pytest
from conftest import ROOT, code_cell


def make_book(book):
    result = subprocess.run(['make', '--no-print-directory', '-C', str(ROOT), 'book', f'BOOK={book}'],
                            capture_output=True, text=True, timeout=600)
    return result.returncode, result.stdout + result.stderr


def test_clean_page_builds(tiny_book):
    book, write_page = tiny_book
    write_page(code_cell('print(1 + 1)'))
    code, output = make_book(book)
    assert code == 0, output
    assert (book / '_build' / 'html' / 'chapters' / 'page.html').exists()


def test_failing_cell_fails_the_build(tiny_book):
    book, write_page = tiny_book
    write_page(code_cell('x = 1'), code_cell("raise ValueError('planted failure')"))
    code, output = make_book(book)
    assert code != 0
    assert 'chapters/page' in output and 'reports' in output


def test_stderr_output_fails_the_build(tiny_book):
    book, write_page = tiny_book
    write_page(code_cell("import warnings\nwarnings.warn('planted warning')"))
    code, output = make_book(book)
    assert code != 0
    assert 'chapters/page' in output and 'stderr' in output


# 页面记下自己开始、结束的时刻和内核看到的线程数设置，写到书目录下的 name.json。
RECORD = """import json, os, time
start = time.time()
time.sleep(3)
record = {{'start': start, 'end': time.time(), 'threads': os.environ.get('OMP_NUM_THREADS')}}
with open('../{name}.json', 'w') as f:
    json.dump(record, f)"""


def test_pages_run_in_parallel_with_a_share_of_the_cpus(tiny_book):
    cpus = len(os.sched_getaffinity(0))
    if cpus < 2:
        pytest.skip('只有一个 CPU 核：构建不会并行执行页面')
    book, write_page = tiny_book
    for name in ('a', 'b'):
        write_page(code_cell(RECORD.format(name=name)), name=name)
    code, output = make_book(book)
    assert code == 0, output
    assert '并行执行 2 个页面' in output
    a, b = (json.loads((book / f'{name}.json').read_text()) for name in ('a', 'b'))
    assert a['start'] < b['end'] and b['start'] < a['end'], '两页的执行时间应当重叠'
    assert a['threads'] == b['threads'] == str(max(1, cpus // min(cpus, 2)))
    # 并行执行的结果进了缓存：删掉 Sphinx 的环境（否则根本不会重读页面）再构建一次，两页都不再执行
    (book / 'a.json').unlink()
    shutil.rmtree(book / '_build' / '.doctrees')
    code, output = make_book(book)
    assert code == 0 and 'Executed notebook' not in output and not (book / 'a.json').exists(), output


# 内核进程自己往 stderr 写的日志（这里仿造一段 ZMQStream 回调的回溯）不是单元格的输出。
KERNEL_NOISE = """import os
os.write(2, b'Traceback (most recent call last):\\n  planted kernel log\\n')"""


def test_a_failing_page_among_parallel_pages_is_named(tiny_book):
    book, write_page = tiny_book
    write_page(code_cell('print("fine")'), name='good')
    write_page(code_cell(KERNEL_NOISE), code_cell("raise ValueError('planted failure')"), name='bad')
    code, output = make_book(book)
    assert code != 0
    assert 'chapters/bad' in output and 'reports' in output, output
    assert 'Traceback' not in output and 'planted kernel log' not in output, output
    logs = list((book / '_build' / 'html' / 'reports').rglob('*.log'))
    assert [log.name for log in logs] == ['bad.err.log']
    assert 'planted kernel log' in logs[0].read_text(encoding='utf-8'), '内核日志应附在出错页面的报告里'


# 读环境变量 PLANTED_FAILURE 的页面：设为 1 时第二个单元格出错，第三个单元格的输出就不会出现。
PLANTED = (code_cell("print('第一格')"),
           code_cell("import os\nassert os.environ.get('PLANTED_FAILURE') != '1', '故意制造的失败'"),
           code_cell("print('最后一格的输出')"))


def build(book, *command, failure=False):
    env = {**os.environ, 'PLANTED_FAILURE': '1' if failure else '0'}
    result = subprocess.run([*command, str(book)] if command else
                            ['make', '--no-print-directory', '-C', str(ROOT), 'book', f'BOOK={book}'],
                            capture_output=True, text=True, timeout=600, env=env)
    return result.returncode, result.stdout + result.stderr


def test_a_failed_page_fails_every_build_until_fixed_and_is_never_published(tiny_book):
    book, write_page = tiny_book
    write_page(*PLANTED)
    page = book / '_build' / 'html' / 'chapters' / 'page.html'
    for attempt in range(2):  # 第二次构建什么都没改，也必须重新执行并再次失败
        code, output = build(book, failure=True)
        assert code != 0, output
        assert '故意制造的失败' in output and 'chapters/page' in output, output
        assert 'Traceback' not in output, 'make book 不应显示 Python 回溯：\n' + output
        assert not page.exists(), '执行失败的页面不应出现在网站上'
    code, output = build(book)
    assert code == 0, output
    assert '最后一格的输出' in page.read_text(encoding='utf-8'), '改好之后页面应当完整发布'
    assert not list((book / '_build' / 'html' / 'reports').rglob('*.log')), '成功后不应留下旧的出错记录'


def test_plain_jupyter_book_build_fails_on_a_failing_cell(tiny_book):
    book, write_page = tiny_book
    write_page(*PLANTED)
    code, output = build(book, str(ROOT / '.venv' / 'bin' / 'jupyter-book'), 'build', failure=True)
    assert code != 0, output
    assert '故意制造的失败' in output
    assert not (book / '_build' / 'html' / 'chapters' / 'page.html').exists()


def test_a_page_published_from_a_failed_execution_is_executed_again(tiny_book):
    # 有人关掉了 raise_on_error：失败的页面带着半截输出被写进网站，Sphinx 的环境也记下了它。
    # 源文件不变，下一次构建仍要重新执行它，而不是沿用那半截输出报告成功。
    book, write_page = tiny_book
    config = book / '_config.yml'
    config.write_text(config.read_text().replace('raise_on_error: true', 'raise_on_error: false'))
    write_page(*PLANTED)
    for attempt in range(2):
        code, output = build(book, failure=True)
        assert code != 0, output
        assert '故意制造的失败' in output, output
    code, output = build(book)
    assert code == 0, output
    assert '最后一格的输出' in (book / '_build' / 'html' / 'chapters' / 'page.html').read_text(encoding='utf-8')


def course():
    """构建扩展 _ext/course.py（Sphinx 运行时它所在的目录在 sys.path 上，测试里要自己加）。"""
    import importlib
    import sys
    if str(ROOT / '_ext') not in sys.path:
        sys.path.insert(0, str(ROOT / '_ext'))
    return importlib.import_module('course')


def test_pages_start_longest_first_and_new_pages_before_all():
    _schedule = course()._schedule
    pending = [(name, None) for name in ('a', 'b', 'new1', 'c', 'new2', 'd')]
    seconds = {'a': 3.0, 'b': 48.6, 'c': 9.6, 'd': 23.0, 'gone': 99.0}
    order = [name for name, _ in _schedule(pending, seconds)]
    assert order == ['new1', 'new2', 'b', 'd', 'c', 'a']


def test_a_fresh_checkout_orders_pages_by_the_committed_estimates_then_by_its_own_times(tiny_book):
    """没有本机记录时按随仓库提交的 _ext/page-seconds.json 排顺序；有了本机记录就用本机的。
    一个内核逐页执行，构建日志里“Executed notebook”的次序就是开始执行的次序。"""
    book, write_page = tiny_book
    write_page(code_cell('import time\ntime.sleep(1)'), name='slow')
    write_page(code_cell('print(1)'), name='quick')
    write_page(code_cell('print(2)'), name='new')
    (book / '_ext' / 'page-seconds.json').write_text(json.dumps({'chapters/quick': 50.0, 'chapters/slow': 1.0}))
    config = (book / '_config.yml').read_text(encoding='utf-8')
    (book / '_config.yml').write_text(config.replace('  config:\n', '  config:\n    execution_workers: 1\n', 1),
                                      encoding='utf-8')

    def order(output):
        return re.findall(r'chapters/(\w+)\.md: Executed notebook', output)

    code, output = make_book(book)
    assert code == 0, output
    assert order(output) == ['new', 'quick', 'slow'], output
    assert re.search(r'执行 3 个页面用了 [\d.]+ s，1 个内核共忙 [\d.]+ s，空闲 [\d.]+%', output), output
    # 本机记下了每页的用时；本机的记录优先于提交的估计。真实用时受机器负载影响（全新 .venv 里第一个内核
    # 还要编译字节码），所以这里换成确定的记录：slow 最长。清空缓存再构建，按本机的记录排
    seconds = json.loads((book / '_build' / '.page-seconds.json').read_text())
    assert set(seconds) == {'chapters/new', 'chapters/quick', 'chapters/slow'}
    (book / '_build' / '.page-seconds.json').write_text(
        json.dumps({'chapters/new': 2.0, 'chapters/quick': 1.0, 'chapters/slow': 3.0}))
    shutil.rmtree(book / '_build' / '.jupyter_cache')
    shutil.rmtree(book / '_build' / '.doctrees')
    code, output = make_book(book)
    assert code == 0, output
    assert order(output) == ['slow', 'new', 'quick'], output


def test_a_build_records_each_pages_execution_time(tiny_book):
    book, write_page = tiny_book
    write_page(code_cell('import time\ntime.sleep(1)'), name='slow')
    write_page(code_cell('print(1)'), name='quick')
    code, output = make_book(book)
    assert code == 0, output
    seconds = json.loads((book / '_build' / '.page-seconds.json').read_text())
    assert set(seconds) == {'chapters/slow', 'chapters/quick'} and seconds['chapters/slow'] >= 1


def test_a_restored_cache_is_used_and_a_stale_one_cleared(tiny_book):
    """CI 只恢复 _build/.jupyter_cache：同一版 d2l_helpers.py 的缓存照用，别的版本的缓存清空重来。"""
    import shutil
    book, write_page = tiny_book
    write_page(code_cell('print("ran")'))
    code, output = make_book(book)
    assert code == 0 and 'Executed notebook' in output, output
    for item in (book / '_build').iterdir():  # 全新的检出：只剩恢复出来的执行缓存
        if item.name != '.jupyter_cache':
            shutil.rmtree(item) if item.is_dir() else item.unlink()
    code, output = make_book(book)
    assert code == 0 and 'Executed notebook' not in output, output
    (book / '_build' / '.jupyter_cache' / 'd2l_helpers.sha256').write_text('another version\n')
    (book / '_build' / '.doctrees').exists() and shutil.rmtree(book / '_build' / '.doctrees')
    code, output = make_book(book)
    assert code == 0 and '清空缓存' in output and 'Executed notebook' in output, output


@pytest.mark.parametrize('cell, reason', [
    ('import os\nos._exit(1)', 'DeadKernelError'),        # 内核进程自己退出
    ('import time\ntime.sleep(120)', 'Timeout'),           # 单元格超过 timeout
])
def test_a_dying_or_hanging_page_fails_the_build_once_and_the_others_are_built(tiny_book, cell, reason):
    import time
    book, write_page = tiny_book
    config = book / '_config.yml'
    config.write_text(config.read_text(encoding='utf-8').replace('timeout: 900', 'timeout: 5'), encoding='utf-8')
    write_page(code_cell('print("fine")'), name='good')
    write_page(code_cell(cell), name='bad')
    start = time.monotonic()
    code, output = make_book(book)
    assert code != 0 and time.monotonic() - start < 100, output  # 超时只等一次（5 秒），不会等两次
    assert output.count('chapters/bad') >= 1 and reason in output, output
    assert 'Traceback' not in output, output
    assert [log.name for log in (book / '_build' / 'html' / 'reports').rglob('*.log')] == ['bad.err.log']
    seconds = json.loads((book / '_build' / '.page-seconds.json').read_text())
    assert list(seconds) == ['chapters/good'], '好的页面照样执行并进了缓存'


def processes():
    """本机的进程：(pid, 命令行, 工作目录, 进程组)；查询时已经退出的跳过。"""
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            cmdline = open(f'/proc/{pid}/cmdline', 'rb').read().decode(errors='replace')
            yield pid, cmdline, os.readlink(f'/proc/{pid}/cwd'), os.getpgid(int(pid))
        except OSError:
            continue


def kernels_running_in(book):
    """在 book 目录下运行的内核进程（内核的工作目录是页面所在的目录）。fork 服务器启动的内核
    沿用服务器的命令行（kernel_forkserver.py），服务器自己的工作目录不在 book 下。"""
    return [pid for pid, cmdline, cwd, _ in processes()
            if ('ipykernel' in cmdline or 'kernel_forkserver' in cmdline) and cwd.startswith(str(book))]


def fork_server_of(build):
    """这次构建（它自成一个进程组）的 fork 服务器进程。"""
    return next((pid for pid, cmdline, _, group in processes()
                 if 'kernel_forkserver' in cmdline and group == build.pid), None)


# 按 Ctrl-C 的两个时刻：页面的内核都在运行时；fork 服务器刚启动、还在导入 torch 时（这时正要启动的内核
# 也不能漏掉，否则构建要等它们把页面跑完）。
@pytest.mark.parametrize('moment', ['kernels running', 'fork server starting'])
def test_ctrl_c_stops_the_build_within_seconds_and_leaves_no_kernel(tiny_book, moment):
    import signal
    import time
    book, write_page = tiny_book
    for name in ('a', 'b', 'c'):
        write_page(code_cell('import time\ntime.sleep(120)'), name=name)
    # 像在终端里一样让构建响应 Ctrl-C：从后台（如 `.ci/run &`）启动的测试进程继承了“忽略 SIGINT”，
    # 子进程也会继承，那样构建根本收不到这个信号。
    build = subprocess.Popen(['make', '--no-print-directory', '-C', str(ROOT), 'book', f'BOOK={book}'],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    if moment == 'kernels running':
        while not kernels_running_in(book) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert kernels_running_in(book), '内核应当已经启动'
        time.sleep(2)
    else:
        while not fork_server_of(build) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fork_server_of(build), 'fork 服务器应当已经启动'
    os.killpg(build.pid, signal.SIGINT)  # 终端里按 Ctrl-C 时，前台进程组收到 SIGINT
    start = time.monotonic()
    output, _ = build.communicate(timeout=60)
    assert time.monotonic() - start < 15, output
    assert build.returncode != 0
    time.sleep(1)
    assert not kernels_running_in(book), '中断后不应留下内核进程'


# 页面之外的执行设置，并行执行的这条路与 MyST-NB 自己的处理一致（myst_nb.sphinx_.Parser.parse）。

def test_a_page_level_timeout_override_applies_in_parallel_execution(tiny_book):
    book, write_page = tiny_book
    write_page(code_cell('print("fine")'), name='good')
    write_page(code_cell('import time\ntime.sleep(60)'), name='slow')
    page = book / 'chapters' / 'slow.md'
    # 页面元数据 mystnb.execution_timeout 把这一页的超时从全书的 900 秒改成 3 秒
    page.write_text(page.read_text(encoding='utf-8').replace('kernelspec:', 'mystnb:\n  execution_timeout: 3\nkernelspec:', 1),
                    encoding='utf-8')
    code, output = make_book(book)
    assert code != 0 and '并行执行 2 个页面' in output, output
    assert 'chapters/slow' in output and 'Timeout' in output, output


def test_kernel_name_aliases_apply_in_parallel_execution(tiny_book):
    book, write_page = tiny_book
    config = book / '_config.yml'
    config.write_text(config.read_text(encoding='utf-8').replace(
        '    chapter_number_offset: 1\n', '    chapter_number_offset: 1\n    nb_kernel_rgx_aliases: {"course-.*": python3}\n'),
        encoding='utf-8')
    write_page(code_cell('print("a")'), name='a')
    write_page(code_cell('print("b")'), name='b')
    for name in ('a', 'b'):  # 这个内核名本身不存在，只有别名规则能把它换成 python3
        page = book / 'chapters' / f'{name}.md'
        page.write_text(page.read_text(encoding='utf-8').replace('name: python3', 'name: course-py'), encoding='utf-8')
    code, output = make_book(book)
    assert code == 0, output
    assert '并行执行 2 个页面' in output and 'Executing notebook' not in output, output


def test_execution_exclude_patterns_match_like_myst_nb(tiny_book):
    book, write_page = tiny_book
    config = book / '_config.yml'
    text = config.read_text(encoding='utf-8')
    assert '  exclude_patterns' not in text.split('execute:')[1].split('\n\n')[0]
    # MyST-NB 从右往左匹配路径（PurePosixPath.match）：'chapters/skip*.md' 匹配书中的 chapters/skip.md
    config.write_text(text.replace('execute:\n', 'execute:\n  exclude_patterns: ["chapters/skip*.md"]\n', 1), encoding='utf-8')
    write_page(code_cell('print("fine")'), name='good')
    write_page(code_cell("raise ValueError('must not run')"), name='skip')
    code, output = make_book(book)
    assert code == 0, output
    assert 'must not run' not in output


SECOND_APP = """import sys
from pathlib import Path
from jupyter_book.sphinx import build_sphinx
book = Path(sys.argv[1])
for name in ('first', 'second'):  # 同一个进程里的两个 Sphinx 应用
    code = build_sphinx(str(book), str(book / '_build' / name), noconfig=True, path_config=str(book / '_config.yml'),
                        doctreedir=str(book / '_build' / f'{name}.doctrees'), freshenv=True, really_quiet=True,
                        confoverrides={'latex_individualpages': False})
    assert code == 0, code
"""


def test_chapter_numbers_shift_once_even_with_two_sphinx_apps_in_one_process(tiny_book):
    import re
    import sys
    book, write_page = tiny_book
    write_page('## 小节\n\n正文。\n', code_cell('print(1)'))
    (book / '_toc.yml').write_text('format: jb-book\nroot: intro\nparts:\n  - caption: 课程\n    numbered: true\n'
                                   '    chapters:\n      - file: chapters/page\n')
    result = subprocess.run([sys.executable, '-c', SECOND_APP, str(book)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ('first', 'second'):
        html = (book / '_build' / name / 'chapters' / 'page.html').read_text(encoding='utf-8')
        numbers = re.findall(r'<span class="section-number">([\d.]+) </span>', html)
        assert numbers[:2] == ['2.', '2.1.'], (name, numbers)


DEEP_DIVE_PAGE = '''
:::{admonition} 本节导览
:class: page-goals
学完本节你能做一件事。
:::

## 主线

主线的文字。推导见 {ref}`sec-deep`。

(sec-deep)=
+++ {"jp-MarkdownHeadingCollapsed": true}

### 深入（可跳过）：一段推导

深入部分的文字 DEEPMARK。

#### 其中一步

''' + code_cell("print('DEEPCODE')") + '''
## 下一节

下一节的文字 MAINMARK。

## 练习

1. 【基础】改一改。

:::{dropdown} 练习 1 的答案
答案的推理 ANSWERTEXT。
:::

''' + code_cell("print('ANSWERCODE')", tags=['answer'])


def test_deep_dives_and_answer_code_fold_into_boxes(tiny_book):
    """“深入（可跳过）”一节变成折叠框（小标题、代码和标签都在里面，{ref} 仍链到它）；答案的代码在答案的折叠框里。"""
    from bs4 import BeautifulSoup
    book, write_page = tiny_book
    write_page(DEEP_DIVE_PAGE)
    code, output = make_book(book)
    assert code == 0, output
    html = BeautifulSoup((book / '_build/html/chapters/page.html').read_text(encoding='utf-8'), 'html.parser')
    deep = html.select_one('details.deep-dive')
    assert deep is not None and 'open' not in deep.attrs
    assert deep.summary.get_text(strip=True).startswith('深入（可跳过）：一段推导')
    body = deep.get_text()
    assert 'DEEPMARK' in body and '其中一步' in body and 'DEEPCODE' in body and 'MAINMARK' not in body
    link = html.find('a', href=lambda href: href and href.endswith('#sec-deep'))
    assert link is not None and '深入（可跳过）' in link.get_text()
    assert html.find(id='sec-deep') is not None
    # 右侧的本页目录里没有折叠起来的那一节，主线的节都在
    toc = html.select_one('.bd-toc') or html
    assert '一段推导' not in ''.join(a.get_text() for a in toc.select('nav a'))
    answer = html.find('summary', string=lambda text: text and '练习 1 的答案' in text) or \
        next(s for s in html.find_all('summary') if '练习 1 的答案' in s.get_text())
    box = answer.find_parent('details')
    assert 'ANSWERTEXT' in box.get_text() and 'ANSWERCODE' in box.get_text()
    # 阅读时间不含可跳过的部分，并单独写出
    goals = html.select_one('.page-goals').get_text()
    assert '约需 1 分钟' in goals and '可跳过的深入部分另需约 1 分钟' in goals


def test_answer_code_not_after_an_answer_box_fails_the_build(tiny_book):
    book, write_page = tiny_book
    write_page('## 练习\n\n正文。\n\n' + code_cell("print('ANSWERCODE')", tags=['answer']))
    code, output = make_book(book)
    assert code != 0
    assert 'answer' in output and 'chapters/page' in output


# 页面 a 在进程里留下各种状态；同一个内核位置上接着执行的页面 b 打印它看到的一切。
# 两页开始时都记下 torch 和 numpy 全局随机数发生器的初始状态：全新的进程用系统熵播种，各页不同。
SEEDS = """import os, sys, torch, numpy
open('../seeds', 'a').write(f'{torch.initial_seed()} {numpy.random.rand()}\\n')"""
LEAVE_STATE = SEEDS + """
import d2l_helpers
LEAK = 1
torch.leak = d2l_helpers.leak = 1
os.environ['LEAK'] = '1'
sys.path.append('/leak')
torch.manual_seed(123)
torch.set_num_threads(3)
numpy.random.seed(123)
open('../a.pid', 'w').write(str(os.getpid()))"""
SHOW_STATE = """import os, sys
print('LEAK' in globals(), os.environ.get('LEAK'), '/leak' in sys.path, 'd2l_helpers' in sys.modules)
import torch, d2l_helpers, matplotlib
print(hasattr(torch, 'leak'), hasattr(d2l_helpers, 'leak'), torch.get_num_threads(), torch.initial_seed() != 123)
print(matplotlib.get_backend(), sys.path[:3], os.getcwd())
print(open('../a.pid').read() != str(os.getpid()))
d2l_helpers.plot([0, 1], [[0, 1]], 'x', 'y')"""


def test_each_page_gets_a_fresh_process_with_or_without_the_fork_server(tiny_book):
    """fork 服务器（默认）为每页 fork 出一个全新的内核：前一页在同一个内核位置上留下的全局变量、
    模块属性、环境变量、sys.path、随机种子、线程数，下一页都看不到；下一页看到的与每页另起一个解释器时相同。"""
    from jupyter_cache import get_cache
    book, write_page = tiny_book
    write_page(code_cell(LEAVE_STATE), name='a')
    write_page(code_cell(SEEDS), code_cell(SHOW_STATE), name='b')
    config = book / '_config.yml'
    text = config.read_text(encoding='utf-8')
    outputs = []
    for forkserver in ('true', 'false'):
        config.write_text(text.replace('  config:\n', f'  config:\n    execution_workers: 1\n'
                                       f'    execution_forkserver: {forkserver}\n', 1), encoding='utf-8')
        shutil.rmtree(book / '_build', ignore_errors=True)
        code, output = make_book(book)
        assert code == 0, output
        assert re.findall(r'chapters/(\w+)\.md: Executed notebook', output) == ['a', 'b'], output
        cache = get_cache(book / '_build' / '.jupyter_cache')
        record = next(record for record in cache.list_cache_records() if record.uri.endswith('b.md'))
        cell = [cell for cell in cache.get_cache_bundle(record.pk).nb.cells if cell.cell_type == 'code'][-1]
        outputs.append(''.join(output['text'] if 'text' in output else f"{output['output_type']} {sorted(output['data'])}\n"
                               for output in cell.outputs))
    with_server, without = outputs
    assert with_server == without
    lines = with_server.splitlines()
    assert lines[0] == 'False None False False' and lines[1].startswith('False False ') and lines[1].endswith(' True')
    assert lines[-2] == 'True', '每页一个新的进程'
    assert lines[-1] == "display_data ['image/svg+xml', 'text/plain']", '图照常显示'
    seeds = (book / 'seeds').read_text().splitlines()
    assert len(seeds) == 4 and len(set(seeds)) == 4, '每页的随机数发生器都重新用系统熵播种'


def test_pages_still_run_when_the_fork_server_cannot_start(tiny_book):
    """fork 服务器起不来（这里换成一个立即出错的脚本）时，构建照常完成：每页另起一个解释器，日志说明原因。"""
    book, write_page = tiny_book
    (book / '_ext' / 'kernel_forkserver.py').write_text("raise ImportError('planted: no torch here')\n")
    write_page(code_cell('import sys\nprint("torch" in sys.modules)'), name='a')
    write_page(code_cell('print("b")'), name='b')
    code, output = make_book(book)
    assert code == 0, output
    assert 'fork 服务器不可用（ImportError: planted: no torch here）' in output, output
    assert 'Traceback' not in output, output
    assert len(re.findall(r'Executed notebook', output)) == 2, output


class _FakeChannel:
    """一个消息通道：get_msg 依次交出排好的消息，排空后像 zmq 通道一样超时（抛 queue.Empty）。"""

    def __init__(self, *messages):
        self.messages = list(messages)

    async def get_msg(self, timeout=None):
        from queue import Empty
        if not self.messages:
            raise Empty
        return self.messages.pop(0)


def test_the_kernel_counts_as_ready_once_iopub_shows_one_of_its_kernel_info_requests_finished():
    """内核算作就绪的条件与 jupyter_client 相同（shell 上有 kernel_info 的回答，IOPub 已连通），
    只是不再固定等待：IOPub 上出现某次 kernel_info 请求的 idle 状态时就绪。IOPub 一开始没连上时
    （第一次请求的状态消息丢了），再问一次，等到第二次请求的 idle。别的请求的 idle 不算。"""
    import asyncio
    _PageKernelClient = course()._PageKernelClient

    def status(parent, state='idle'):
        return {'msg_type': 'status', 'content': {'execution_state': state}, 'parent_header': {'msg_id': parent}}

    reply = {'msg_type': 'kernel_info_reply', 'content': {}, 'parent_header': {}}
    client = _PageKernelClient()
    sent = []
    iopub = _FakeChannel()

    def ask():
        # 第一次问完 IOPub 上什么都没有（还没连上）；第二次问完先来一个别的请求的 idle，再来这次的 busy、idle
        msg_id = f'request-{len(sent) + 1}'
        sent.append(msg_id)
        if msg_id == 'request-2':
            iopub.messages += [status('someone-else'), status(msg_id, 'busy'), status(msg_id)]
        return msg_id
    client.kernel_info = ask
    client._handle_kernel_info_reply = lambda msg: sent.append('handled')
    client._async_is_alive = lambda: asyncio.sleep(0, True)
    client._shell_channel, client._iopub_channel = _FakeChannel(reply, reply), iopub
    asyncio.run(client.wait_for_ready(timeout=10))
    assert sent == ['request-1', 'request-2', 'handled']
    assert iopub.messages == []


def test_waiting_for_a_kernel_that_died_fails_with_the_usual_message():
    import asyncio
    client = course()._PageKernelClient()
    client.kernel_info = lambda: 'request'
    client._async_is_alive = lambda: asyncio.sleep(0, False)
    client._shell_channel, client._iopub_channel = _FakeChannel(), _FakeChannel()
    with pytest.raises(RuntimeError, match='Kernel died before replying to kernel_info'):
        asyncio.run(client.wait_for_ready(timeout=10))
