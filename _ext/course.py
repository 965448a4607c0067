"""本书对 Jupyter Book 的几处小调整。

1. 章节编号从 2 开始，与《动手学深度学习》一致（预备知识是第 2 章，2.1 数据操作 …）。
   Sphinx 的编号总从 1 开始；这里在它分配完节号之后、分配图号之前，把每个编号的第一位加上
   `chapter_number_offset`。图、表、公式的编号（图 3.1 …）随之改变。
2. 每页的“下载”菜单里加上执行过的 .ipynb（带输出），读者可以直接在 Jupyter 或 Colab 中打开。
3. 仓库按钮：构建时从 git 的 origin 远程地址得到仓库网址（例如在 GitHub Actions 中），
   没有远程地址时不显示按钮，而不是链接到一个错误的地址。
4. 去掉 sphinx-thebe 的脚本：本书不在页面里启动远程内核，而它会把同一段脚本插入两次
   （浏览器报 “Identifier 'THEBE_JS_URL' has already been declared”），还指向外部 CDN。
5. 并行执行：MyST-NB 在读每一页时才逐页执行，一次只用一个内核。这里在 Sphinx 开始读页面之前，
   把执行缓存里还没有结果的页面同时交给多个内核执行（默认每个 CPU 核一个），结果写进同一个
   jupyter-cache；随后 MyST-NB 读页面时直接用缓存。每个内核的 PyTorch 线程数是 CPU 核数除以内核数，
   避免线程争抢。有页面执行失败（单元格出错、超时、内核退出）时，完整记录写到 reports/，构建随即中止
   （_config.yml 的 raise_on_error）：出错的页面不进缓存、不被发布，下次构建一定重新执行它。
   上次执行失败、输出不完整的页面，即使源文件没改也会重新读入（env-get-outdated）。
   页面按上次的执行时间从长到短开始（_schedule），最长的页面不会最后才独自跑完；本机还没有记录时
   用随仓库提交的 page-seconds.json（make bench 写入）。执行完记一行内核的空闲比例。
6. 中文搜索索引：绕开 Sphinx 7 中文分词器里一个平方级的查找（见 _SearchChinese）；搜索结果的摘要只取正文
   （static/search-excerpts.js）。
7. 无障碍：主题的颜色模式和搜索按钮的可访问名称与可见内容一致（templates/components/），侧栏目录里
   展开小节的 <summary> 有名称（_label_summaries），折叠代码的按钮名称就是它显示的文字（_name_code_toggles）。
8. 练习答案的代码单元（标签 answer）放进答案的折叠框（_answers_into_dropdowns）；标题以“深入（可跳过）”
   开头的一节变成默认折叠的框（FoldDeepDives），阅读时间另算（_add_reading_time）。
"""
import json
import math
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path, PurePosixPath
from queue import Empty

import jupytext
import markupsafe
import nbformat
from docutils import nodes
from jupyter_cache import get_cache
from jupyter_client import AsyncKernelClient, AsyncKernelManager
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution
from myst_nb.core.read import create_nb_reader
from sphinx import addnodes
from sphinx.errors import SphinxError
from sphinx.search import languages as search_languages
from sphinx.search import zh as sphinx_zh
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx_design.shared import create_component
from sphinx_external_toc.collectors import TocTreeCollectorWithStyles
from traitlets import default

from notebook_download import downloadable

logger = logging.getLogger(__name__)


def _shift(number, offset):
    return type(number)([number[0] + offset, *number[1:]]) if number else number


def _patch(app):
    # Jupyter Book 用 sphinx-external-toc 的收集器给目录编号，它最后一步会重排章号，所以包在它外面。
    # 只包一次：同一个进程里的第二个 Sphinx 应用不能把章号再移一遍；偏移量每次从当前应用的配置里读。
    assign = TocTreeCollectorWithStyles.assign_section_numbers
    if getattr(assign, 'shifts_chapters', False):
        return

    def assign_with_offset(self, env):
        offset = env.config.chapter_number_offset
        # Sphinx 把新算出的编号与上次保存的比较，决定哪些页面要重写；上次保存的已经加过偏移，
        # 直接比较会认为每一页都变了。所以在加完偏移之后自己比较。
        old = {docname: dict(secnums) for docname, secnums in env.toc_secnumbers.items()}
        assign(self, env)
        for docname, secnums in env.toc_secnumbers.items():
            for anchor, number in secnums.items():
                secnums[anchor] = _shift(number, offset)
            for node in env.tocs[docname].findall(nodes.Element):
                if node.get('secnumber'):
                    node['secnumber'] = _shift(node['secnumber'], offset)
            title = env.titles.get(docname)
            if title is not None and title.get('secnumber'):
                title['secnumber'] = _shift(title['secnumber'], offset)
        return [docname for docname in env.toc_secnumbers.keys() | old.keys()
                if env.toc_secnumbers.get(docname) != old.get(docname)]

    assign_with_offset.shifts_chapters = True
    TocTreeCollectorWithStyles.assign_section_numbers = assign_with_offset


def _pdf_chapter_numbers(app, doctree, docname):
    """PDF 的章号与网站相同：首页的各节和附录不编号，课程各章用网站上的章号（2、3、4）。

    LaTeX 构建器把整本书拼成一棵树（每页以 start_of_file 开头）；在每章开头插入一行 LaTeX，
    切换编号（\\courseunnumbered、\\coursechapter 定义在 _config.yml 的 latex_elements 里）。
    """
    if app.builder.name != 'latex' or docname != app.config.root_doc:
        return
    env = app.env
    chapters = env.toctree_includes.get(app.config.root_doc, [])
    doctree.insert(0, nodes.raw('', r'\courseunnumbered', format='latex'))
    for start in doctree.findall(addnodes.start_of_file):
        if start['docname'] not in chapters:
            continue
        number = env.toc_secnumbers.get(start['docname'], {}).get('')
        command = rf'\coursechapter{{{number[0] - 1}}}' if number else r'\courseunnumbered'
        start.insert(0, nodes.raw('', command, format='latex'))


# 阅读时间按每分钟读 300 个汉字（或 200 个英文单词、公式）和 15 行代码估算，不含练习和答案。
CHARS_PER_MINUTE, WORDS_PER_MINUTE, CODE_LINES_PER_MINUTE = 300, 200, 15
_CJK = re.compile(r'[\u3400-\u9fff\uf900-\ufaff]')
_WORD = re.compile(r'[A-Za-z0-9_]+')


def _is_deep_dive(node):
    return isinstance(node, nodes.Element) and 'deep-dive' in node.get('container_classes', [])


def reading_minutes(node):
    """读完 node 的时间（分钟，向上取整）：正文的字数、代码单元的行数。练习一节（含答案）、导览框和
    node 里面可跳过的深入部分（class deep-dive）不算。"""
    chars = words = code_lines = 0

    def visit(child):
        nonlocal chars, words, code_lines
        if isinstance(child, nodes.Text):
            text = str(child)
            chars += len(_CJK.findall(text))
            words += len(_WORD.findall(text))
            return
        if isinstance(child, nodes.section) and child[0].astext().strip() == '练习':
            return
        if 'page-goals' in child.get('classes', []) or (_is_deep_dive(child) and child is not node):
            return
        if child.get('nb_element') == 'cell_code_output':
            return
        if child.get('nb_element') == 'cell_code_source':
            code_lines += len(child.astext().strip().splitlines())
            return
        if isinstance(child, (nodes.math_block, nodes.math)):
            words += 1
            return
        for grandchild in child.children:
            visit(grandchild)

    visit(node)
    minutes = chars / CHARS_PER_MINUTE + words / WORDS_PER_MINUTE + code_lines / CODE_LINES_PER_MINUTE
    return max(1, math.ceil(minutes))


def _add_reading_time(app, doctree):
    # 页面开头的“本节导览”框（:class: page-goals）末尾写上由正文算出的阅读时间；可跳过的深入部分另算。
    boxes = [node for node in doctree.findall(nodes.admonition) if 'page-goals' in node['classes']]
    if not boxes:
        return
    deep = list(doctree.findall(_is_deep_dive))
    extra = f'；可跳过的深入部分另需约 {sum(map(reading_minutes, deep))} 分钟' if deep else ''
    boxes[0] += nodes.paragraph('', '', nodes.strong('', f'约需 {reading_minutes(doctree)} 分钟'),
                                nodes.Text(f'（按每分钟读 300 字、15 行代码估算，不含练习{extra}）'))


def _answers_into_dropdowns(app, doctree):
    """练习答案的代码单元（标签 answer）移进紧挨在它前面的答案折叠框，与推理放在一起，只需展开一次。
    在 JupyterLab 里页面没有折叠框，代码单元就跟在答案文字后面。"""
    cells = [node for node in doctree.findall(nodes.container)
             if node.get('nb_element') == 'cell_code' and 'tag_answer' in node['classes']]
    for cell in cells:  # 按文档顺序：同一个答案的第二个单元移动时，第一个已经在折叠框里了
        parent = cell.parent
        index = parent.index(cell)
        dropdown = parent[index - 1] if index else None
        if dropdown is None or dropdown.get('design_component') != 'dropdown':
            logger.warning('标签为 answer 的代码单元必须紧跟在答案的折叠框（:::{dropdown}）之后', location=cell)
            continue
        parent.remove(cell)
        dropdown += cell


DEEP_DIVE = '深入（可跳过）'


class FoldDeepDives(SphinxTransform):
    """标题以“深入（可跳过）”开头的一节（到下一个同级或更高级的标题为止）在网站和 PDF 里变成默认折叠的框，
    里面的小标题变成粗体的小标题。页面的主线不需要它；在 JupyterLab 里它就是一个写明可以跳过的标题。
    在 Sphinx 收集标签之前（SphinxDomains 的优先级是 850）运行：一节的标签随标题移到框的标题上，
    {ref} 照样能链到它。"""
    default_priority = 840

    def _flatten(self, section):
        # 一节的标题换成 rubric（带着这一节的 id 和标签），其中的小节同样展开成 rubric 加内容
        title, *body = section.children
        rubric = nodes.rubric(title.rawsource, '', *title.children, ids=section['ids'], names=section['names'])
        for node_id in section['ids']:
            self.document.ids[node_id] = rubric
        content = []
        for node in body:
            if isinstance(node, nodes.section):
                content.extend(self._flatten(node))
            else:
                content.append(node)
        return [rubric, *content]

    def apply(self, **kwargs):
        deep = [section for section in self.document.findall(nodes.section)
                if section[0].astext().startswith(DEEP_DIVE)]
        for section in deep:
            ancestor = section.parent
            while ancestor is not None and ancestor not in deep:
                ancestor = ancestor.parent
            if ancestor is not None:
                continue  # 套在另一段深入部分里：随外面那一段一起展开
            box = create_component('dropdown', opened=False, type='dropdown', has_title=True, icon=None,
                                   chevron=None, container_classes=['sd-mb-3', 'deep-dive'], title_classes=[],
                                   body_classes=[])
            box += self._flatten(section)
            section.replace_self(box)


def _drop_thebe(app, pagename, templatename, context, doctree):
    context['script_files'] = [
        js for js in context.get('script_files', [])
        if 'thebe' not in (js.filename or '') and 'THEBE' not in js.attributes.get('body', '')]
    context['css_files'] = [css for css in context.get('css_files', [])
                            if 'thebe' not in (css.filename or '')]


def _offer_notebook(app, pagename, templatename, context, doctree):
    # 缓存模式下 MyST-NB 写到 _build/jupyter_execute/ 的笔记本不带输出，这里从执行缓存取出带输出的版本，
    # 写到 _sources/ 中；主题看到 ipynb_source 就会在下载菜单里加上 .ipynb。
    source = Path(app.srcdir) / f'{pagename}.md'
    if doctree is None or not source.exists() or 'kernelspec' not in source.read_text(encoding='utf-8')[:2000]:
        return
    cache = get_cache(Path(app.outdir).parent / '.jupyter_cache')
    try:
        _, notebook = cache.merge_match_into_notebook(jupytext.read(source))
    except KeyError:  # 页面没有执行过（例如执行被关闭）
        return
    target = Path(app.outdir) / '_sources' / f'{pagename}.ipynb'
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(downloadable(app, pagename, notebook), target)
    context['ipynb_source'] = f'{pagename}.ipynb'


def _book_pdf(app):
    """make pdf 生成的整本 PDF（没有生成过时为 None）。"""
    if app.builder.format != 'html':
        return None
    pdfs = sorted((Path(app.srcdir) / '_build' / 'pdf').glob('*.pdf'))
    return pdfs[0] if pdfs else None


def _offer_pdf(app, pagename, templatename, context, doctree):
    # 生成过 PDF 时，每页的下载菜单里加一项“全书 PDF”，首页的占位符换成下载链接。
    pdf = _book_pdf(app)
    if pdf is None:
        return
    url = context['pathto'](pdf.name, 1)
    for group in context.get('header_buttons', []):
        if group.get('label') == 'download-buttons':
            group['buttons'].append({'type': 'link', 'url': url, 'text': '全书 PDF', 'icon': 'fas fa-book',
                                     'tooltip': '下载整本课程的 PDF', 'label': 'download-book-pdf-button'})
    if pagename == app.config.root_doc and 'body' in context:
        link = f'：<a class="reference external" href="{url}">下载 {pdf.name}</a>'
        context['body'] = context['body'].replace('<span id="course-pdf"></span>', link)


def _copy_pdf(app, exception):
    pdf = _book_pdf(app)
    if exception is None and pdf is not None:
        shutil.copyfile(pdf, Path(app.outdir) / pdf.name)


def _rewrite_pages_for_new_pdf(app, env):
    # 页面没改时 Sphinx 不重写 HTML；PDF 新生成（或删除）后，所有页面的下载菜单都要跟着变。
    if app.builder.format != 'html':
        return []
    pdf = _book_pdf(app)
    stamp = f'{pdf.name}:{pdf.stat().st_mtime_ns}' if pdf else ''
    if getattr(env, 'course_pdf_stamp', '') == stamp:
        return []
    env.course_pdf_stamp = stamp
    return list(env.found_docs)


def _repository_button(app, config):
    try:
        remote = subprocess.run(['git', 'remote', 'get-url', 'origin'], cwd=app.srcdir,
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return
    match = re.match(r'(?:https://|git@)github\.com[/:](.+?)(?:\.git)?$', remote)
    if match:
        options = config.html_theme_options
        options['repository_url'] = f'https://github.com/{match.group(1)}'
        options['repository_branch'] = 'main'
        options['use_repository_button'] = True


def _cpu_count():
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1


def _store(cache, path, reader, notebook, seconds):
    """把执行过的笔记本存进 jupyter-cache，与 MyST-NB 自己执行后存的一样。"""
    read_data = {'read_data': reader.read_fmt} if reader.read_fmt else {}
    record = cache.add_nb_to_project(str(path), **read_data)
    cache.cache_notebook_bundle(CacheBundleIn(notebook, record.uri, data={'execution_seconds': seconds}),
                                check_validity=False, overwrite=True)


class PageExecutionError(SphinxError):
    category = '页面执行失败'


def _report_path(app, docname):
    return Path(app.outdir).joinpath('reports', *(docname + '.err.log').split('/'))


def _failure_summary(notebook, error):
    """一行说明：出错的是哪个单元格、什么错误。"""
    where = ''
    for index, cell in enumerate(notebook.cells):
        if any(output.get('output_type') == 'error' for output in cell.get('outputs', [])):
            first_line = next((line for line in cell.source.splitlines() if line.strip()), '')
            where = f'第 {index + 1} 个单元格（{first_line.strip()[:60]}）：'
            break
    if hasattr(error, 'ename'):  # 单元格里抛出的异常
        what = f'{error.ename}: {error.evalue}'.strip()
    else:  # 超时、内核退出或无法启动：只取说明的第一行
        what = f'{type(error).__name__}: {(str(error).strip().splitlines() or [""])[0]}'
    return where + what


class _ForkedKernel:
    """fork 服务器（_ext/kernel_forkserver.py）启动的内核进程，代替 Popen 交给 jupyter_client 管理。
    它是服务器的子进程而不是构建的，所以用 pidfd 得知它退出；退出码由服务器回收，这里记为 0。
    pidfd 随对象一起关闭：工作线程和 Ctrl-C 的处理可能同时查询它，中途关掉会让另一方查询一个已关闭的描述符。"""
    stdin = stdout = stderr = None

    def __init__(self, pid):
        self.pid, self.returncode, self._pidfd = pid, None, None
        try:
            self._pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # 已经退出并被回收了
            self.returncode = 0

    def __del__(self):
        if self._pidfd is not None:
            os.close(self._pidfd)

    def wait(self, timeout=None):
        if self.returncode is None and select.select([self._pidfd], [], [], timeout)[0]:
            self.returncode = 0
        return self.returncode

    def poll(self):
        return self.wait(0)

    def send_signal(self, signum):
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


class _KernelForkServer:
    """一个预先导入了 torch 等大模块的进程，每页从它 fork 出一个全新的内核（见 _ext/kernel_forkserver.py）。
    每页仍是独立的进程，但不必各自花一秒多导入 torch。只在 Linux 上用（要 fork 和 pidfd）。"""
    SCRIPT = Path(__file__).with_name('kernel_forkserver.py')

    def __init__(self):
        self.lock = threading.Lock()  # 几个工作线程同时要内核时，请求和回答一问一答
        self.errors = tempfile.TemporaryFile('w+', encoding='utf-8', errors='replace')  # 服务器自己的出错信息
        self.process = subprocess.Popen([sys.executable, str(self.SCRIPT)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.errors, text=True)
        self.ready = False  # 服务器导入 torch 的同时构建继续往下走；第一次要内核时才等它说 ready
        self.failed = False

    @staticmethod
    def usable():
        return sys.platform == 'linux' and hasattr(os, 'pidfd_open')

    @staticmethod
    def serves(kernel_cmd):
        """只代替本解释器的 `python -m ipykernel_launcher ...`；别的内核照常启动。"""
        return (kernel_cmd[1:3] == ['-m', 'ipykernel_launcher']
                and os.path.realpath(shutil.which(kernel_cmd[0]) or kernel_cmd[0]) == os.path.realpath(sys.executable))

    def start(self, kernel_cmd, cwd, env, log):
        """fork 出一个内核，返回它的进程；服务器没能启动或已经退出时返回 None（这一页照常另起解释器）。"""
        request = json.dumps({'argv': kernel_cmd[3:], 'cwd': str(cwd or os.getcwd()), 'env': env, 'log': log})
        with self.lock:
            if self.failed:
                return None
            try:
                if not self.ready:
                    self.ready = self.process.stdout.readline().strip() == 'ready'
                if self.ready:
                    self.process.stdin.write(request + '\n')
                    self.process.stdin.flush()
                    reply = self.process.stdout.readline().strip()
                    if reply.isdigit():
                        return _ForkedKernel(int(reply))
            except (OSError, ValueError):  # 管道已断开或已关闭
                pass
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.errors.seek(0)
            reason = (self.errors.read().strip().splitlines() or [f'退出码 {self.process.returncode}'])[-1]
            logger.info(f'fork 服务器不可用（{reason}），之后的页面各自另起一个 Python 进程作内核')
            self.failed = True
            return None

    def close(self):
        if not self.ready:  # 还在导入模块（例如刚启动就按了 Ctrl-C）：不必等它
            self.process.kill()
        try:
            self.process.stdin.close()
        except OSError:  # 服务器已经退出，管道断了
            pass
        self.process.wait()
        self.process.stdout.close()
        self.errors.close()


class _PageKernelClient(AsyncKernelClient):
    """与 jupyter_client 的 wait_for_ready 做同样的检查：shell 上收到 kernel_info 的回答，IOPub 也已连通。
    原来的做法是在 IOPub 上固定等 0.2 秒、再等到 0.2 秒没有消息为止，每启动一个内核都要白等 0.2 秒以上，
    这段时间内核的位置空着。这里改为等 IOPub 上这次请求的 idle 状态：收到它就说明 IOPub 已连通、
    之前的消息也已收完；0.2 秒内没有收到（IOPub 还没连上）就再问一次。"""

    async def wait_for_ready(self, timeout=None):
        deadline = time.monotonic() + (float('inf') if timeout is None else timeout)
        asked = set()  # 发出过的 kernel_info 请求：IOPub 上任何一个的 idle 都算数
        while True:
            asked.add(self.kernel_info())
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply['msg_type'] == 'kernel_info_reply':
                try:
                    while True:
                        msg = await self.iopub_channel.get_msg(timeout=0.2)
                        if (msg['msg_type'] == 'status' and msg['content'].get('execution_state') == 'idle'
                                and msg['parent_header'].get('msg_id') in asked):
                            self._handle_kernel_info_reply(reply)
                            return
                except Empty:
                    pass
            if not await self._async_is_alive():
                raise RuntimeError('Kernel died before replying to kernel_info')
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")


class _PageKernelManager(AsyncKernelManager):
    """内核进程自己的 stdout/stderr（不是单元格的输出，单元格的输出走消息通道）写到 log_file，
    而不是构建的终端：几个内核同时运行时，它们的日志会夹在构建输出中间。页面失败时这些日志附在报告后面。
    有 fork 服务器时，内核从它 fork 出来，而不是另起一个解释器。"""
    log_file = None
    forkserver = None
    running = set()  # 已启动的内核进程：构建被中断（Ctrl-C）时逐个结束，不留在后台
    interrupted = False  # 按过 Ctrl-C 之后不再启动内核；正好在那时启动的内核一启动就结束
    lock = threading.Lock()

    @classmethod
    def stop_all(cls):
        with cls.lock:
            cls.interrupted = True
            for process in cls.running:
                process.kill()

    @default('client_factory')
    def _client_factory_default(self):
        return _PageKernelClient

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if _PageKernelManager.interrupted:
            raise RuntimeError('构建已被中断，不再启动内核')
        process = None
        if self.forkserver is not None and self.forkserver.serves(kernel_cmd):
            process = self.forkserver.start(kernel_cmd, kw.get('cwd'), kw['env'], self.log_file.name)
        if process is not None:
            provisioner = self.provisioner
            # 与 LocalProvisioner.launch_kernel 设的一样；内核自成会话，进程组号就是它的 pid
            provisioner.process, provisioner.pid, provisioner.pgid = process, process.pid, process.pid
            provisioner.cwd = kw.get('cwd')
            self._reconcile_connection_info(provisioner.connection_info)
        else:
            kw['stdout'] = kw['stderr'] = self.log_file
            await super()._async_launch_kernel(kernel_cmd, **kw)
        with _PageKernelManager.lock:
            _PageKernelManager.running.add(self.provisioner.process)
            if _PageKernelManager.interrupted:
                self.provisioner.process.kill()


def _schedule(pending, seconds):
    """执行顺序：不知道用时的页面在前（保持原来的次序），其余按用时从长到短。
    这样最长的页面最先开始，不会在别的内核都空闲时才独自跑完。pending 的元素以 docname 开头。"""
    return sorted(pending, key=lambda item: (item[0] in seconds, -seconds.get(item[0], 0.0)))


# make bench 在一次从空缓存的构建中测得的每页用时，随仓库提交。全新的检出（CI、读者第一次构建）
# 还没有自己的记录，就按它排顺序；本机记录过的页面用本机的时间。
ESTIMATES = Path(__file__).with_name('page-seconds.json')


def _read_seconds(path):
    try:
        return json.loads(Path(path).read_text(encoding='utf-8'))
    except (OSError, ValueError):
        return {}


def _seconds_file(cache_path):
    # 每页上次的执行时间。放在执行缓存旁边而不是里面：d2l_helpers.py 改动时缓存会清空，时间仍然有用。
    return Path(cache_path).parent / '.page-seconds.json'


def _page_config(nb_config, notebook):
    """这一页的执行配置，与 MyST-NB 读页面时的做法相同（myst_nb.sphinx_.Parser.parse）：
    先按 nb_kernel_rgx_aliases 换内核名（就地改 notebook，缓存的哈希也就与 MyST-NB 的一致），
    再用页面元数据里的 mystnb 项覆盖全书的配置。覆盖不合法时返回 None，交给 MyST-NB 报告。"""
    kernelspec = notebook.metadata.get('kernelspec', {})
    for pattern, alias in nb_config.kernel_rgx_aliases.items():
        if kernelspec.get('name') is not None and re.fullmatch(pattern, kernelspec['name']):
            kernelspec['name'] = alias
            break
    overrides = dict(notebook.metadata.get(nb_config.metadata_key, {}))
    overrides.pop('output_folder', None)
    try:
        return nb_config.copy(**overrides)
    except Exception:
        return None


def _execute_ahead(app, env, docnames):
    nb_config = env.mystnb_config
    if nb_config.execution_mode != 'cache' or nb_config.execution_in_temp:
        return
    cache_path = nb_config.execution_cache_path or '.jupyter_cache'
    cache = get_cache(cache_path)
    pending = []  # 缓存里没有结果、需要执行的页面：(docname, 路径, 读入器, 笔记本, 这一页的配置)
    for docname in docnames:
        path = Path(env.doc2path(docname))
        text = path.read_text(encoding='utf-8')
        reader = create_nb_reader(str(path), env.myst_config, nb_config, text)
        if reader is None:
            continue
        notebook = reader.read(text)
        page_config = _page_config(nb_config, notebook)
        if page_config is None or page_config.execution_mode != 'cache' or page_config.execution_in_temp or any(
                PurePosixPath(path.as_posix()).match(pattern) for pattern in page_config.execution_excludepatterns):
            continue  # 这些页面照 MyST-NB 自己的方式处理（不执行、或由它逐页执行）
        try:
            cache.match_cache_notebook(notebook)
        except KeyError:
            if any(cell.cell_type == 'code' for cell in notebook.cells):
                pending.append((docname, path, reader, notebook, page_config))
            else:  # 没有代码的页面（如各章的首页）执行前后一样，不必为它启动内核
                _store(cache, path, reader, notebook, seconds=0.0)
    if not pending:
        return
    seconds_file = _seconds_file(cache_path)
    seconds = _read_seconds(seconds_file)
    pending = _schedule(pending, {**_read_seconds(ESTIMATES), **seconds})
    workers = min(app.config.execution_workers or _cpu_count(), len(pending))
    logger.info(f'用 {workers} 个内核并行执行 {len(pending)} 个页面……' if workers > 1
                else f'执行 {len(pending)} 个页面……')
    threads = str(max(1, _cpu_count() // workers))
    saved = {name: os.environ.get(name) for name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')}
    for name, value in saved.items():
        if value is None:  # 用户自己设了线程数就照用户的
            os.environ[name] = threads

    _PageKernelManager.running.clear()
    _PageKernelManager.interrupted = False
    forkserver = None
    if app.config.execution_forkserver and _KernelForkServer.usable():  # 在设好线程数之后启动：torch 导入时就读它们
        forkserver = _KernelForkServer()
    busy = []  # 每页占用一个内核位置的秒数（从启动内核到它退出）

    def run(notebook, path, page_config):
        start = time.perf_counter()
        with tempfile.NamedTemporaryFile('w+', encoding='utf-8', errors='replace') as log:
            manager = type('PageKernelManager', (_PageKernelManager,), {'log_file': log, 'forkserver': forkserver})
            try:
                # ipykernel 7.4 起，每个内核启动时都记一条关于本机 TCP 未加密的警告；内核日志只记错误。
                # meta_override 与 MyST-NB 相同：页面元数据里的 execution 项可以改超时等设置。
                result = single_nb_execution(
                    notebook, cwd=str(path.parent), timeout=page_config.execution_timeout,
                    allow_errors=page_config.execution_allow_errors, meta_override=True,
                    kernel_manager_class=manager, extra_arguments=['--IPKernelApp.log_level=ERROR'])
                error, details = result.err, result.exc_string
            except Exception as exc:  # 内核无法启动或中途退出
                result, error, details = None, exc, ''.join(traceback.format_exception(exc))
            if error is not None:
                log.seek(0)
                kernel_log = log.read().strip()
                if kernel_log:
                    details += '\n\n内核进程的日志：\n' + kernel_log + '\n'
        busy.append(time.perf_counter() - start)
        return result, error, details

    failures = []  # (docname, 一行说明, 完整记录的路径)
    started = time.perf_counter()
    pool = ThreadPoolExecutor(workers)
    try:
        futures = {pool.submit(run, notebook, path, page_config): (docname, path, reader, notebook)
                   for docname, path, reader, notebook, page_config in pending}
        try:
            for future in as_completed(futures):
                docname, path, reader, notebook = futures[future]
                report = _report_path(app, docname)
                result, error, details = future.result()
                if error is None:
                    _store(cache, path, reader, notebook, result.time)
                    seconds[docname] = round(result.time, 2)
                    report.unlink(missing_ok=True)
                    logger.info(f'Executed notebook in {result.time:.2f} seconds', location=docname)
                    continue
                # 失败的页面不进缓存，下次构建会重新执行；完整的出错记录写到 reports/ 下
                report.parent.mkdir(parents=True, exist_ok=True)
                report.write_text(details, encoding='utf-8')
                summary = _failure_summary(notebook, error)
                failures.append((docname, summary, report))
                logger.error(f'执行失败：{summary}（完整记录：{report}）', location=docname)
        except KeyboardInterrupt:
            # Ctrl-C：排队的页面不再开始，正在运行的内核直接结束（它们在自己的会话里，收不到终端的 Ctrl-C），
            # 工作线程随即因内核退出而返回。
            pool.shutdown(wait=False, cancel_futures=True)
            _PageKernelManager.stop_all()
            raise
    finally:
        pool.shutdown(wait=True)
        if forkserver is not None:
            forkserver.close()
        wall = time.perf_counter() - started
        # 内核空闲：一个内核位置上没有页面在执行的时间，占全部内核位置时间的比例（make bench 读这一行）
        logger.info(f'执行 {len(busy)} 个页面用了 {wall:.1f} s，{workers} 个内核共忙 {sum(busy):.1f} s，'
                    f'空闲 {max(0.0, 1 - sum(busy) / (wall * workers)):.1%}')
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
        seconds_file.parent.mkdir(parents=True, exist_ok=True)
        seconds_file.write_text(json.dumps(seconds, indent=0, sort_keys=True), encoding='utf-8')
    if failures and nb_config.execution_raise_on_error:
        # 中止构建：出错的页面不会带着半截输出被发布；环境不保存，下次构建重新执行它们。
        raise PageExecutionError(
            f'{len(failures)} 个页面有单元格出错，构建中止，网站没有更新：\n'
            + '\n'.join(f'  {docname}：{summary}\n    完整记录：{report}'
                        for docname, summary, report in sorted(failures))
            + '\n改好这些页面后重新构建；在 JupyterLab（make lab）中打开页面可以逐个单元格调试。')


def _outdated_failed_pages(app, env, added, changed, removed):
    """上次执行失败（输出不完整）的页面：无论源文件改没改，都要重新读入、重新执行。"""
    return [docname for docname, data in getattr(env, 'nb_metadata', {}).items()
            if (data.get('exec_data') or {}).get('succeeded') is False and docname in env.found_docs]


def _name_code_toggles(app, pagename, templatename, context, doctree):
    # MyST-NB 给折叠代码的 <summary> 加了英文的 aria-label（“Toggle hidden content”），与它显示的“显示代码”
    # 不一致；去掉它，名称就取自可见文字。
    # 代码块 <pre> 放不下时横向滚动；tabindex 让只用键盘的读者也能聚焦它、滚动它。
    if 'body' in context:
        body = context['body'].replace(' aria-label="Toggle hidden content"', '')
        context['body'] = re.sub(r'<pre(?=[ >])(?![^>]*tabindex)', '<pre tabindex="0"', body)


def _label_summaries(app, pagename, templatename, context, doctree):
    # 侧栏目录中可展开的章节，展开按钮是一个只有图标的 <summary>，读屏软件读不出它是什么。
    generate = context.get('generate_toctree_html')
    if generate is None:
        return

    def with_labels(*args, **kwargs):
        html = str(generate(*args, **kwargs))
        html = re.sub(r'(<a [^>]*>(.*?)</a>\s*<details[^>]*>)<summary>',
                      lambda m: m.group(1) + '<summary aria-label="展开或折叠“{}”的小节">'.format(
                          re.sub(r'<[^>]+>', '', m.group(2)).strip().replace('"', '&quot;')),
                      html, flags=re.S)
        return markupsafe.Markup(html)
    context['generate_toctree_html'] = with_labels


class _LatinTerms(set):
    """Sphinx 7 的中文搜索把出现过的每个拉丁词都追加到一个列表（latin_terms）里，又对每个词在
    列表里查找，索引整本书要平方级的时间（约 10 秒）。换成集合（保留它用到的 extend），结果完全相同。"""
    extend = set.update


class _SearchChinese(sphinx_zh.SearchChinese):
    def init(self, options):
        super().init(options)
        self.latin_terms = _LatinTerms()


def setup(app):
    search_languages['zh'] = _SearchChinese
    # 构建时没有人看着训练曲线：Animator 只画单元格结束时的那一张（见 d2l_helpers.Animator）。
    # 内核进程继承这个环境变量。
    os.environ.setdefault('D2L_LIVE_PLOTS', '0')
    app.add_config_value('chapter_number_offset', 0, 'env')
    # 同时执行页面的内核数；0 表示每个 CPU 核一个。
    app.add_config_value('execution_workers', 0, 'env')
    # 在 Linux 上从预先导入了 torch 等模块的进程 fork 出每页的内核（_ext/kernel_forkserver.py）；false 时另起解释器。
    app.add_config_value('execution_forkserver', True, 'env')
    app.connect('env-get-outdated', _outdated_failed_pages)
    app.connect('env-before-read-docs', _execute_ahead)
    app.connect('builder-inited', _patch)
    app.connect('config-inited', _repository_button)
    here = Path(__file__).parent
    app.connect('config-inited', lambda app, config: config.templates_path.insert(0, str(here / 'templates')))
    app.connect('config-inited', lambda app, config: config.html_static_path.append(str(here / 'static')))
    app.add_js_file('search-excerpts.js')
    app.connect('html-page-context', _label_summaries, priority=900)  # 在主题放好 generate_toctree_html 之后
    app.connect('html-page-context', _name_code_toggles)
    app.connect('html-page-context', _drop_thebe)
    app.connect('doctree-resolved', _pdf_chapter_numbers)
    app.add_transform(FoldDeepDives)
    app.connect('doctree-read', _add_reading_time)
    app.connect('doctree-read', _answers_into_dropdowns)
    app.connect('html-page-context', _offer_pdf, priority=502)  # 在主题生成下载菜单之后
    app.connect('env-get-updated', _rewrite_pages_for_new_pdf)
    app.connect('build-finished', _copy_pdf)
    app.connect('html-page-context', _offer_notebook, priority=400)  # 在主题生成下载菜单之前
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
