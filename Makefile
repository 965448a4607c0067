# 《动手学深度学习》第 2–4 章课程网站。常用的只有两条：make book 和 make test。
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# 本书需要的 Debian 软件包：Fashion-MNIST 数据、中文字体、站点测试用的浏览器。
DEB_PACKAGES := dataset-fashion-mnist fonts-noto-cjk chromium
# 只有 PDF（make pdf 和 make test 里那本小书的 PDF）才需要的：XeLaTeX、中文宏包、latexmk、xindy（索引）、
# Sphinx 默认的西文字体、把 SVG 图转成 PDF 矢量图的 rsvg-convert，以及测试用的 pdftotext/pdffonts。
TEX_PACKAGES := texlive-xetex texlive-lang-chinese texlive-latex-extra texlive-fonts-recommended latexmk xindy \
  fonts-freefont-otf librsvg2-bin poppler-utils
# 要构建的书所在的目录（测试会在临时副本上调用 make book BOOK=…）。
BOOK ?= .

.PHONY: book pdf test test-pdf test-portable setup venv system tex data lab serve clean bench format

# 执行缓存只认页面的代码单元，Sphinx 也只重读改过的页面；d2l_helpers.py 一改，两者保存的输出都可能过时。
# 所以缓存目录里记下它是用哪一版 d2l_helpers.py（内容的 SHA-256）执行的：对不上就清空，让每一页重新执行。
# 记录在缓存目录之内，CI 恢复的缓存带着它，全新的检出拿到同一版的缓存时什么都不用执行。
CACHE_DIR := $(BOOK)/_build/.jupyter_cache
HELPERS_HASH = $$(sha256sum d2l_helpers.py | cut -d' ' -f1)
define check_helpers_hash
	@if [ -d $(CACHE_DIR) ] && [ "$$(cat $(CACHE_DIR)/d2l_helpers.sha256 2>/dev/null)" != "$(HELPERS_HASH)" ]; then \
	  echo "d2l_helpers.py 与执行缓存不是同一版：清空缓存，每一页重新执行。"; \
	  rm -rf $(CACHE_DIR) $(BOOK)/_build/.doctrees; fi
	@mkdir -p $(CACHE_DIR) && echo "$(HELPERS_HASH)" > $(CACHE_DIR)/d2l_helpers.sha256
endef

# 构建中止时，Sphinx 已经说清了原因（完整记录在 reports/）；jupyter-book 随后抛出的异常不必再打印一遍回溯。
book: setup  ## 构建网站（只重新执行改动过的页面和上次失败的页面）
	$(check_helpers_hash)
	@$(PY) -c 'import sys; sys.excepthook = lambda *_: None; from jupyter_book.cli.main import main; main()' \
	  build $(BOOK) -W --keep-going || { \
	  echo; echo '构建失败：原因见上面的 WARNING/ERROR；执行出错的页面日志在 _build/html/reports/。'; exit 1; }
	@echo; echo "网站已生成：$(abspath $(BOOK))/_build/html/index.html（make serve 在 http://127.0.0.1:8000 上查看）"

# PDF 与网站用同一个执行缓存，不会再执行一遍页面。最后重新构建网站（没改的页面不再执行），
# 让每页的下载菜单和首页链到刚生成的 PDF。
pdf: setup tex  ## 生成整本课程的 PDF：_build/pdf/d2l-course.pdf（需要 TeX，以 root 运行时自动安装）
	$(check_helpers_hash)
	@$(PY) -c 'import sys; sys.excepthook = lambda *_: None; from jupyter_book.cli.main import main; main()' \
	  build $(BOOK) --builder latex -W --keep-going || { \
	  echo; echo 'LaTeX 源文件没有生成：原因见上面的 WARNING/ERROR；执行出错的页面日志在 _build/latex/reports/。'; exit 1; }
	@$(PY) _ext/pdf.py $(BOOK)
	@$(MAKE) --no-print-directory book BOOK=$(BOOK)

test-pdf: pdf  ## 生成整本 PDF 并检查（章节、图、字体、交叉引用；不属于 make test，CI 另外运行）
	$(PY) -m pytest tests -m pdf

test: setup tex  ## 单元测试、执行每一页（nbval）、构建网站并检查
	$(PY) -m pytest tests -m 'not site and not pdf'
	$(PY) -m pytest -n auto --dist loadfile --nbval chapters
	$(MAKE) book
	$(PY) -m pytest tests -m site

# 同样的代码在别的 CPU 上会得到末几位不同的浮点数（向量化内核、BLAS 内核、线程数决定求和顺序），
# 连 torch.randn 的结果也会变。本机用下面这些开关模拟三种机器，各执行一遍所有页面：
# 老 CPU（无 AVX，OpenBLAS 和 MKL 用 SSE 内核）、单线程的 AVX2 机器、AVX-512 加 Haswell 内核的双线程机器。
PORTABLE_CONFIGS := \
  "ATEN_CPU_CAPABILITY=default OPENBLAS_CORETYPE=Prescott MKL_ENABLE_INSTRUCTIONS=SSE4_2" \
  "ATEN_CPU_CAPABILITY=avx2 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1" \
  "ATEN_CPU_CAPABILITY=avx512 OPENBLAS_CORETYPE=Haswell MKL_ENABLE_INSTRUCTIONS=AVX2 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2"

test-portable: setup  ## 在模拟的三种 CPU 上各执行一遍所有页面（不属于 make test，CI 另外运行）
	@failed=; for config in $(PORTABLE_CONFIGS); do \
	  echo; echo "== $$config"; \
	  env $$config $(PY) -m pytest -n auto --dist loadfile --nbval chapters -q || failed="$$failed"$$'\n'"  $$config"; \
	done; \
	if [ -n "$$failed" ]; then echo; echo "这些配置下有页面失败：$$failed"; exit 1; fi

setup: system venv $(INSTALLED) data  ## 准备一切：系统包、.venv、数据（已完成时几秒钟）

# 可编辑安装把 .venv 绑在安装它的目录上：目录被移走或删除后，内核里 import d2l_helpers 会失败。
# .venv 不属于这个目录（导入的是别处的 d2l_helpers）或者已经损坏时，删掉它，下一步重新安装。
venv:
	@if [ -e $(VENV) ]; then \
	  found=$$(cd / && $(CURDIR)/$(PY) -c 'import importlib.util as u, os; print(os.path.realpath(u.find_spec("d2l_helpers").origin))' 2>/dev/null); \
	  if [ "$$found" != "$$(realpath d2l_helpers.py)" ] || [ "$$(head -1 $(VENV)/bin/jupyter-book 2>/dev/null)" != "#!$(CURDIR)/$(PY)" ]; then \
	    echo ".venv 属于另一个目录或已损坏（它导入的 d2l_helpers：$${found:-无}），删除后重新安装。"; \
	    rm -rf $(VENV); \
	  fi; \
	fi

system:  ## 以 root 运行且有 apt 时安装缺少的 Debian 包，否则说明需要什么
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "安装 Debian 包：$$missing"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null \
	    && rm -rf $${HOME}/.cache/matplotlib; } || echo "警告：apt-get 没能安装 $$missing，继续。"; \
	else \
	  echo "提示：缺少 Debian 包 $$missing。有 root 权限时运行 sudo make system；"; \
	  echo "      或自备数据（见 data/README.md）、中文字体和 Chromium（缺少时站点浏览器测试会跳过）。"; \
	fi

tex:  ## 以 root 运行且有 apt 时安装排 PDF 所需的 Debian 包，否则说明需要什么
	@missing=$$(for p in $(TEX_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "安装排 PDF 用的 Debian 包：$$missing"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; } \
	    || echo "警告：apt-get 没能安装 $$missing。"; \
	else \
	  echo "提示：排 PDF 需要 Debian 包 $$missing（sudo make tex 或 sudo apt-get install --no-install-recommends $$missing）。"; \
	fi

$(INSTALLED): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

data: system venv $(INSTALLED)  ## 取得并校验 Fashion-MNIST，放进 data/FashionMNIST/raw/
	@$(PY) -m d2l_helpers

# 页面保持 jupytext（版本由 requirements.txt 决定）写出的样子：在 JupyterLab 里打开再保存，文件一字不变。
# make test 检查这一点（tests/test_pages.py）；不符合时运行 make format。
PAGES = $(shell grep -l '^jupytext:' intro.md chapters/*.md chapters/*/*.md 2>/dev/null)
format: setup  ## 把页面写成 jupytext 保存时的样子
	@$(VENV)/bin/jupytext --quiet --to md:myst $(PAGES)

lab: setup  ## 在 JupyterLab 中打开课程（.md 页面以笔记本形式打开）
	JUPYTER_CONFIG_DIR=$(CURDIR)/.jupyter $(VENV)/bin/jupyter lab --notebook-dir=$(CURDIR) $(if $(filter 0,$(shell id -u)),--allow-root)

PORT ?= 8000
serve:  ## 在 http://127.0.0.1:8000 上提供已构建的网站（端口被占用时用 make serve PORT=8001）
	@test -f _build/html/index.html || { echo '错误：还没有构建好的网站（_build/html/index.html），先运行 make book。'; exit 1; }
	@$(PY) -c 'import socket; socket.create_server(("127.0.0.1", $(PORT))).close()' 2>/dev/null \
	  || { echo '错误：端口 $(PORT) 已被占用，换一个端口：make serve PORT=8001'; exit 1; }
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

bench: setup  ## 基准测试：迭代周期对比 d2l 0.17，以及整本书的构建时间（不属于 make test）
	$(PY) benchmarks/epoch.py
	$(PY) benchmarks/book.py

clean:  ## 删除构建结果和执行缓存（保留 .venv 和数据）
	rm -rf _build
