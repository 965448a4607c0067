"""make pdf 的第二步：把 Sphinx 写好的 LaTeX（_build/latex）用 XeLaTeX 排成 PDF，严格检查后放到 _build/pdf/。

    python _ext/pdf.py [书的目录]

LaTeX 出错、有没解析的交叉引用或字体里缺字时失败，并指出出问题的页面；失败时 _build/pdf/ 里不留 PDF，
成功时 PDF 先写到临时文件再改名，不会留下写了一半的文件。
"""
import os
import re
import subprocess
import sys
from pathlib import Path

# Sphinx 在每一页开头写下 \label{\detokenize{chapters/xxx::doc}}，据此把 .tex 的行号换成页面名。
PAGE_LABEL = re.compile(r'\\label\{\\detokenize\{([^{}]+)::doc\}\}')
ERROR_LINE = re.compile(r'^\./[^:\n]+\.tex:(\d+): (.*)$', re.M)
UNDEFINED = re.compile(r"LaTeX Warning: (?:Reference|Citation|Hyper reference) `([^']+)' on page \S+ undefined on input line (\d+)")
MISSING_CHAR = re.compile(r'Missing character: There is no (.+?) in font ([^/:!]+)')


def page_at(tex_lines, line):
    """.tex 第 line 行属于哪一页。"""
    for text in reversed(tex_lines[:line]):
        match = PAGE_LABEL.search(text)
        if match:
            return match.group(1)
    return '（首页之前的导言区）'


def problems(log, tex_lines):
    found = []
    for line, message in ERROR_LINE.findall(log):
        found.append(f'{page_at(tex_lines, int(line))}：LaTeX 错误：{message}（.tex 第 {line} 行）')
    for label, line in UNDEFINED.findall(log):
        found.append(f'{page_at(tex_lines, int(line))}：交叉引用 {label} 没有解析（.tex 第 {line} 行）')
    for char, font in sorted(set(MISSING_CHAR.findall(log))):
        found.append(f'字体 {font.strip()} 里没有字符 {char}（在 .tex 里搜索这个字符可找到所在页面）')
    return found


def main(book):
    latex = book / '_build' / 'latex'
    texfiles = sorted(latex.glob('*.tex'))
    if not texfiles:
        sys.exit(f'{latex} 里没有 .tex 文件：先运行 jupyter-book build {book} --builder latex（make pdf 会做）。')
    tex = texfiles[0]
    target = book / '_build' / 'pdf' / tex.with_suffix('.pdf').name
    target.unlink(missing_ok=True)
    env = dict(os.environ, XINDYOPTS='-L general -C utf8 -M sphinx.xdy')
    # latexmk 反复运行 XeLaTeX（和 xindy）直到交叉引用稳定；任何错误都立即停止。
    run = subprocess.run(['latexmk', '-pdf', '-dvi-', '-ps-', '-interaction=nonstopmode', '-halt-on-error',
                          '-file-line-error', tex.name], cwd=latex, env=env, capture_output=True, text=True)
    log_file = tex.with_suffix('.log')
    log = log_file.read_text(encoding='utf-8', errors='replace') if log_file.exists() else ''
    found = problems(log, tex.read_text(encoding='utf-8').splitlines())
    if run.returncode != 0 and not found:
        found.append('latexmk 失败：\n' + (run.stdout + run.stderr)[-3000:])
    if found:
        print(f'PDF 没有生成，{len(found)} 个问题：', *found, f'完整记录：{log_file}', sep='\n  ', file=sys.stderr)
        sys.exit(1)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix('.pdf.part')
    partial.write_bytes(tex.with_suffix('.pdf').read_bytes())
    os.replace(partial, target)
    print(f'PDF 已生成：{target.resolve()}')


if __name__ == '__main__':
    main(Path(sys.argv[1] if len(sys.argv) > 1 else '.'))
