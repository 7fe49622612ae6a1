// The page's two DOM helpers: an element by id, and a new element with attributes and children.

/** The element with this id (the page's HTML has every id the code asks for). */
export const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/** A new element: el('td', { class: 'num' }, '3') is <td class="num">3</td>; text children are escaped by the DOM. */
export const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
};
