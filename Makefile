# 《动手学深度学习》第 2–4 章课程网站。常用的只有两条：make book 和 make test。
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# 本书需要的 Debian 软件包：Fashion-MNIST 数据、中文字体、站点测试用的浏览器。
DEB_PACKAGES := dataset-fashion-mnist fonts-noto-cjk chromium
# 要构建的书所在的目录（测试会在临时副本上调用 make book BOOK=…）。
BOOK ?= .

.PHONY: book test setup system data lab serve clean bench

# 执行缓存只认页面的代码单元，Sphinx 也只重读改过的页面；d2l_helpers.py 一改，
# 两者保存的输出都可能过时，所以随之清空，让每一页重新执行。
HELPERS_STAMP := $(BOOK)/_build/.d2l_helpers-stamp

book: setup $(HELPERS_STAMP)  ## 构建网站（只重新执行改动过的页面）
	@$(VENV)/bin/jupyter-book build $(BOOK) -W --keep-going || { \
	  echo; echo '构建失败：原因见上面的 WARNING/ERROR；执行出错的页面日志在 _build/html/reports/。'; exit 1; }
	@echo; echo "网站已生成：$(abspath $(BOOK))/_build/html/index.html（make serve 在 http://127.0.0.1:8000 上查看）"

$(HELPERS_STAMP): d2l_helpers.py
	rm -rf $(BOOK)/_build/.jupyter_cache $(BOOK)/_build/.doctrees
	mkdir -p $(dir $@) && touch $@

test: setup  ## 单元测试、执行每一页（nbval）、构建网站并检查
	$(PY) -m pytest tests -m 'not site'
	$(PY) -m pytest -n auto --dist loadfile --nbval chapters
	$(MAKE) book
	$(PY) -m pytest tests -m site

setup: system $(INSTALLED) data  ## 准备一切：系统包、.venv、数据（已完成时几秒钟）

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

$(INSTALLED): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

data: system $(INSTALLED)  ## 取得并校验 Fashion-MNIST，放进 data/FashionMNIST/raw/
	@$(PY) -c 'import d2l_helpers as d2l; print("Fashion-MNIST 已就绪：", d2l.fetch_fashion_mnist())'

lab: setup  ## 在 JupyterLab 中打开课程（.md 页面以笔记本形式打开）
	JUPYTER_CONFIG_DIR=$(CURDIR)/.jupyter $(VENV)/bin/jupyter lab --notebook-dir=$(CURDIR)

serve:  ## 在 http://127.0.0.1:8000 上提供已构建的网站
	$(PY) -m http.server 8000 --bind 127.0.0.1 --directory _build/html

bench: setup  ## 基准测试：迭代周期对比 d2l 0.17，以及整本书的构建时间（不属于 make test）
	$(PY) benchmarks/epoch.py
	$(PY) benchmarks/book.py

clean:  ## 删除构建结果和执行缓存（保留 .venv 和数据）
	rm -rf _build
