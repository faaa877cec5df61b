/** Server-rendered HTML: one escape function, one layout, no client-side script at all. */

export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Tagged template: interpolated values are escaped unless they are Html (or arrays of Html). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(value);
}

const STYLE = `
body{font-family:system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;color:#1b1b1b;line-height:1.45}
header{display:flex;gap:1.5rem;align-items:baseline;border-bottom:2px solid #ff5b24;margin-bottom:1rem}
header a{color:#1b1b1b}h1{font-size:1.5rem}table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}td.num,th.num{text-align:right}
.products{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:1rem}
.product{border:1px solid #ddd;border-radius:.5rem;padding:1rem}button{background:#ff5b24;color:#fff;border:0;border-radius:.3rem;padding:.45rem .9rem;font-size:1rem;cursor:pointer}
button.secondary{background:#555}.notice{background:#eef7ee;border:1px solid #7b7;padding:.5rem .8rem;border-radius:.3rem}
.error{background:#fdecec;border:1px solid #d77;padding:.5rem .8rem;border-radius:.3rem}.status{font-size:1.2rem;font-weight:600}
form.inline{display:inline}fieldset{border:1px solid #ddd;border-radius:.4rem;margin:0 0 1rem}input[type=number]{width:4rem}
.muted{color:#555;font-size:.9rem}`;

export function page(title: string, body: Html, options: { refreshSeconds?: number } = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${options.refreshSeconds ? `<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ''}
<title>${escapeHtml(title)} · Kassa Shop</title>
<style>${STYLE}</style>
</head>
<body>
<header><strong>Kassa Shop</strong><nav><a href="/">Products</a> · <a href="/cart">Cart</a> · <a href="/admin/orders">Orders (staff)</a></nav></header>
<main>
${body.text}
</main>
</body>
</html>`;
}
