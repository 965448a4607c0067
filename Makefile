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

.PHONY: helpers book pdf test test-pdf test-portable setup venv system tex data lab serve clean bench format lock

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
JUPYTER_BOOK := $(PY) -c 'import sys; sys.excepthook = lambda *_: None; from jupyter_book.cli.main import main; main()'
book: setup  ## 构建网站（只重新执行改动过的页面和上次失败的页面）
	$(check_helpers_hash)
	@$(JUPYTER_BOOK) build $(BOOK) -W --keep-going || { \
	  echo; echo '构建失败：原因见上面的 WARNING/ERROR；执行出错的页面日志在 _build/html/reports/。'; exit 1; }
	@echo; echo "网站已生成：$(abspath $(BOOK))/_build/html/index.html（make serve 在 http://127.0.0.1:8000 上查看）"

# PDF 与网站用同一个执行缓存，不会再执行一遍页面。最后重新构建网站（没改的页面不再执行），
# 让每页的下载菜单和首页链到刚生成的 PDF。
pdf: setup tex  ## 生成整本课程的 PDF：_build/pdf/d2l-course.pdf（需要 TeX，以 root 运行时自动安装）
	$(check_helpers_hash)
	@$(JUPYTER_BOOK) build $(BOOK) --builder latex -W --keep-going || { \
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
# 规定了线程数的配置，同时执行的页面数是核数除以每个内核的线程数，免得线程多于核、慢好几倍。
PORTABLE_CONFIGS := \
  "ATEN_CPU_CAPABILITY=default OPENBLAS_CORETYPE=Prescott MKL_ENABLE_INSTRUCTIONS=SSE4_2" \
  "ATEN_CPU_CAPABILITY=avx2 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1" \
  "ATEN_CPU_CAPABILITY=avx512 OPENBLAS_CORETYPE=Haswell MKL_ENABLE_INSTRUCTIONS=AVX2 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2"

test-portable: setup  ## 在模拟的三种 CPU 上各执行一遍所有页面（不属于 make test，CI 另外运行）
	@failed=; for config in $(PORTABLE_CONFIGS); do \
	  echo; echo "== $$config"; \
	  threads=$$(echo "$$config" | grep -o 'OMP_NUM_THREADS=[0-9]*' | cut -d= -f2); \
	  workers=$$([ -n "$$threads" ] && echo $$(( $$(nproc) / threads > 1 ? $$(nproc) / threads : 1 )) || echo auto); \
	  env $$config $(PY) -m pytest -n $$workers --dist loadfile --nbval chapters -q || failed="$$failed"$$'\n'"  $$config"; \
	done; \
	if [ -n "$$failed" ]; then echo; echo "这些配置下有页面失败：$$failed"; exit 1; fi

# 所教的函数写在页面里带 save 标签的代码单元中；改了它们之后运行 make helpers，把它们写进 d2l_helpers.py。
helpers:  ## 把页面 save 单元里的函数写进 d2l_helpers.py（make test 检查两边一致）
	@$(PY) _ext/saved_cells.py

setup: system venv $(INSTALLED) data  ## 准备一切：系统包、.venv、数据（已完成时几秒钟）

# 可编辑安装把 .venv 绑在安装它的目录上：目录被移走或删除后，内核里 import d2l_helpers 会失败。
# .venv 已损坏、属于另一个目录（导入的是别处的 d2l_helpers，或脚本指向别处的 Python）时，删掉它，下一步重新安装。
# 还没装 d2l_helpers 的 .venv（例如 CI 先装好 CPU 版的 torch）保留，下一步补装。
venv:
	@if [ -e $(VENV) ]; then \
	  found=$$(cd / && $(CURDIR)/$(PY) -c 'import importlib.util as u, os; s = u.find_spec("d2l_helpers"); print(os.path.realpath(s.origin) if s else "")' 2>/dev/null) || found=损坏; \
	  shebang=$$(head -1 $(VENV)/bin/jupyter-book 2>/dev/null); \
	  if [ "$$found" = 损坏 ] || { [ -n "$$found" ] && [ "$$found" != "$$(realpath d2l_helpers.py)" ]; } \
	     || { [ -n "$$shebang" ] && [ "$$shebang" != "#!$(CURDIR)/$(PY)" ]; }; then \
	    echo ".venv 属于另一个目录或已损坏（它导入的 d2l_helpers：$${found:-无}），删除后重新安装。"; \
	    rm -rf $(VENV); \
	  elif [ -z "$$found" ]; then rm -f $(INSTALLED); fi; \
	fi

# 以 root 运行且有 apt 时安装缺少的包：先一起装，失败时逐个装，一个包装不上不耽误其他包。
# 装过字体后清掉 matplotlib 的字体缓存；用 sudo 运行时清的是调用者（SUDO_USER）的缓存，而不是 root 的。
# $(1)：包；$(2)：apt-get 的额外选项；$(3)：没有 root 时的提示。
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "安装 Debian 包："$$missing; \
	  apt-get update -qq || echo "警告：apt-get update 失败，继续。"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) $$missing >/dev/null 2>&1 \
	    || for p in $$missing; do DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) $$p >/dev/null 2>&1 \
	         || echo "警告：没能安装 $$p，继续。"; done; \
	  home=$$(getent passwd "$${SUDO_USER:-$$(id -un)}" | cut -d: -f6); \
	  rm -rf "$${home:-$$HOME}/.cache/matplotlib"; \
	else \
	  echo "提示：缺少 Debian 包"$$missing"。$(3)"; \
	fi
endef

system:  ## 以 root 运行且有 apt 时安装缺少的 Debian 包，否则说明需要什么
	$(call apt_install,$(DEB_PACKAGES),,有 root 权限时运行 sudo make system；或自备数据（见 data/README.md）、中文字体和 Chromium。)

tex:  ## 以 root 运行且有 apt 时安装排 PDF 所需的 Debian 包，否则说明需要什么
	$(call apt_install,$(TEX_PACKAGES),--no-install-recommends,排 PDF 需要它们：sudo make tex。)

# 依赖的确切版本锁在 requirements.lock 里（本书构建、测试所用的每一个包，包括间接依赖）；make lock 重新生成它。
$(INSTALLED): requirements.txt requirements.lock pyproject.toml
	@test -x $(PY) || { $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "错误：需要 Python 3.11 或更新（见 pyproject.toml 的 requires-python），而 $(PYTHON) 是 $$($(PYTHON) --version 2>&1)。"; \
	  echo "      用 make PYTHON=python3.11（或更新的版本）指定解释器。"; exit 1; }; \
	  $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -c requirements.lock
	touch $@

# 改了 requirements.txt（加包、升级）之后运行：按 .venv 里正在用的版本锁定全部依赖，再用 make test 确认。
lock: $(INSTALLED)  ## 重新生成 requirements.lock（pip-compile，版本取自当前 .venv）
	$(PY) -m pip install -q --disable-pip-version-check pip-tools
	@tmp=$$(mktemp -d); \
	$(PY) -m pip freeze --exclude-editable > $$tmp/freeze.txt; \
	grep -v '^-e ' requirements.txt > $$tmp/requirements.in; \
	$(PY) -m piptools compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
	  -c $$tmp/freeze.txt -o $$tmp/requirements.lock $$tmp/requirements.in && \
	{ echo '# 由 make lock 生成（requirements.in 即去掉 -e . 的 requirements.txt，freeze.txt 即当前 .venv 的 pip freeze），不要手改。'; \
	  sed "s|$$tmp/||g" $$tmp/requirements.lock; } > requirements.lock; status=$$?; rm -rf $$tmp; exit $$status

data: system venv $(INSTALLED)  ## 取得并校验 Fashion-MNIST，放进 data/FashionMNIST/raw/（设了 D2L_DATA_DIR 时放进那里）
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
