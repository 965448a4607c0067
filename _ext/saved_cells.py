"""页面是所教函数的来源：页面里标签为 save 的代码单元中的函数和类，原样就是 d2l_helpers.py 里的同名定义。

    make helpers      把每个 save 单元里的定义写进 d2l_helpers.py，替换模块中同名的顶层定义
    make test         （tests/test_pages.py）检查两边一致（语法树相同），不一致时说出是哪一页的哪个函数

模块里其余的公开函数和类不在任何页面里教，列在 HELPER_ONLY 中并写明原因。
"""
import ast
import sys
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / 'd2l_helpers.py'

HELPER_ONLY = {
    'DataError': '数据缺失或损坏时的异常类型，不是课程内容',
    'glue': '把数值交给正文的 {glue} 引用，是构建网站的管道',
    'fetch_fashion_mnist': '下载并校验数据文件，不是课程内容',
    'read_fashion_mnist': '解析 idx 文件，不是课程内容；页面讲的是拿到张量之后怎么成批读取',
    'Animator': '在 Jupyter 里原地刷新、在构建时只画一次、在脚本里不输出；页面写的是只讲原理的简短版本',
    'try_gpu': '后面的章节才用 GPU，本课程只在 CPU 上运行；保留它是为了与原书的代码兼容',
    'meshgrid': '原书 d2l 包的框架别名，行为与 torch 的对应函数相同',
    'numpy': '原书 d2l 包的框架别名',
    'size': '原书 d2l 包的框架别名',
    'reshape': '原书 d2l 包的框架别名',
    'to': '原书 d2l 包的框架别名',
    'reduce_sum': '原书 d2l 包的框架别名',
    'reduce_mean': '原书 d2l 包的框架别名',
    'argmax': '原书 d2l 包的框架别名',
    'astype': '原书 d2l 包的框架别名',
    'transpose': '原书 d2l 包的框架别名',
}


class SavedCellError(ValueError):
    pass


def _definitions(source):
    """源代码中顶层的函数和类：{名字: (起始行, 结束行, 语法树节点)}，行号从 1 开始，含装饰器。"""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            start = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
            found[node.name] = (start, node.end_lineno, node)
    return found


def saved_definitions(root=ROOT):
    """各页 save 单元里的定义：[(页面的相对路径, 名字, 源代码, 语法树节点)]。"""
    saved, pages = [], {}
    for path in sorted((root / 'chapters').rglob('*.md')):
        page = path.relative_to(root).as_posix()
        notebook = jupytext.read(path)
        for cell in notebook.cells:
            if cell.cell_type != 'code' or 'save' not in cell.metadata.get('tags', []):
                continue
            tree = ast.parse(cell.source)
            others = [node for node in tree.body if not isinstance(node, (ast.FunctionDef, ast.ClassDef))]
            if others:
                raise SavedCellError(f'{page} 第 {others[0].lineno} 行：save 单元里只能有函数和类的定义，'
                                     '用到它们的代码放到下一个单元里。')
            lines = cell.source.splitlines()
            for name, (start, end, node) in _definitions(cell.source).items():
                if name in pages:
                    raise SavedCellError(f'{name} 在 {pages[name]} 和 {page} 里都有 save 单元：只留一处。')
                pages[name] = page
                saved.append((page, name, '\n'.join(lines[start - 1:end]), node))
    return saved


def differences(root=ROOT):
    """页面与模块不一致的定义：[(页面, 名字, 说明)]。"""
    module = _definitions((root / 'd2l_helpers.py').read_text(encoding='utf-8'))
    found = []
    for page, name, _, node in saved_definitions(root):
        if name not in module:
            found.append((page, name, 'd2l_helpers.py 里没有这个定义：先在模块的相应位置加上它，再运行 make helpers'))
        elif ast.dump(module[name][2]) != ast.dump(node):
            found.append((page, name, '与 d2l_helpers.py 里的不同：改完页面后运行 make helpers'))
    return found


def write_module(root=ROOT):
    """把各页 save 单元里的定义写进 d2l_helpers.py；返回改动了的名字。"""
    path = root / 'd2l_helpers.py'
    source = path.read_text(encoding='utf-8')
    module = _definitions(source)
    saved = saved_definitions(root)
    missing = [(page, name) for page, name, _, _ in saved if name not in module]
    if missing:
        raise SavedCellError('d2l_helpers.py 里没有这些定义，先在模块的相应位置加上它们：'
                             + '，'.join(f'{name}（{page}）' for page, name in missing))
    lines = source.splitlines()
    changed = []
    # 从文件末尾往前替换，前面定义的行号不受影响
    for _, name, text, _ in sorted(saved, key=lambda item: -module[item[1]][0]):
        start, end, _ = module[name]
        if lines[start - 1:end] != text.splitlines():
            lines[start - 1:end] = text.splitlines()
            changed.append(name)
    if changed:
        temporary = path.with_suffix('.py.part')
        temporary.write_text('\n'.join(lines) + '\n', encoding='utf-8')
        temporary.replace(path)
    return sorted(changed)


if __name__ == '__main__':
    try:
        changed = write_module()
    except SavedCellError as error:
        sys.exit(f'错误：{error}')
    print('d2l_helpers.py 已与页面一致' + (f'；更新了：{", ".join(changed)}' if changed else '，没有改动。'))
