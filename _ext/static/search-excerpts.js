// 搜索结果下的摘要只取正文：去掉页首的下载菜单和目录按钮、右侧目录，公式的 LaTeX 源码换成省略号。
document.addEventListener('DOMContentLoaded', () => {
  if (typeof Search === 'undefined' || !Search.htmlToText) return;  // Search 只在搜索页上有
  const toText = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const page = new DOMParser().parseFromString(htmlString, 'text/html');
    page.querySelectorAll('.bd-header-article, .bd-sidebar-secondary, .prev-next-area').forEach((el) => el.remove());
    page.querySelectorAll('.math').forEach((el) => el.replaceWith('…'));
    return toText(page.documentElement.outerHTML, anchor);
  };
});
