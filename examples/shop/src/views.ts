/** The shop's pages. Pure: data in, HTML out. */
import type { PaymentEvent } from '@kassa/sdk';
import type { Cart } from './cart.ts';
import { CURRENCY, catalog, productBySku } from './catalog.ts';
import { type Html, html, page } from './html.ts';
import { formatMoney } from './money.ts';
import { type Order, refundable, reserved, shippedValue, statusOf } from './orders.ts';

const money = (value: number, currency = CURRENCY) => formatMoney(value, currency);

function notices(notice?: string, error?: string): Html {
  return html`${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}${error ? html`<p class="error" role="alert">${error}</p>` : ''}`;
}

export function catalogPage(cart: Cart, notice?: string): string {
  const count = [...cart.values()].reduce((a, b) => a + b, 0);
  return page(
    'Products',
    html`<h1>Products</h1>
${notices(notice)}
<p><a href="/cart">Cart (${count} ${count === 1 ? 'item' : 'items'})</a></p>
<div class="products">
${catalog.map(
  (product) => html`<section class="product" aria-labelledby="p-${product.sku}">
  <h2 id="p-${product.sku}">${product.name}</h2>
  <p>${product.description}</p>
  <p class="price">${money(product.price)}</p>
  <form method="post" action="/cart/add"><input type="hidden" name="sku" value="${product.sku}">
  <button type="submit" aria-label="Add ${product.name} to cart">Add to cart</button></form>
</section>`,
)}
</div>`,
  );
}

export function cartPage(cart: Cart, error?: string): string {
  const lines = [...cart].flatMap(([sku, quantity]) => {
    const product = productBySku(sku);
    return product ? [{ product, quantity }] : [];
  });
  const total = lines.reduce((sum, { product, quantity }) => sum + product.price * quantity, 0);
  if (lines.length === 0)
    return page('Cart', html`<h1>Cart</h1>${notices(undefined, error)}<p>Your cart is empty. <a href="/">See the products</a>.</p>`);
  return page(
    'Cart',
    html`<h1>Cart</h1>
${notices(undefined, error)}
<form method="post" action="/cart/update">
<table>
<thead><tr><th>Product</th><th class="num">Price</th><th class="num">Quantity</th><th class="num">Sum</th></tr></thead>
<tbody>
${lines.map(
  ({ product, quantity }) => html`<tr><td>${product.name}</td><td class="num">${money(product.price)}</td>
<td class="num"><label>Quantity of ${product.name} <input type="number" name="qty_${product.sku}" min="0" max="20" value="${quantity}"></label></td>
<td class="num">${money(product.price * quantity)}</td></tr>`,
)}
</tbody>
<tfoot><tr><th colspan="3">Total (VAT included)</th><td class="num"><strong id="cart-total">${money(total)}</strong></td></tr></tfoot>
</table>
<button type="submit" class="secondary">Update cart</button>
</form>
<form method="post" action="/checkout">
<p>By paying you accept our terms of sale. You will be sent to Vipps MobilePay to approve the payment.</p>
<button type="submit">Pay ${money(total)} with Vipps MobilePay</button>
</form>`,
  );
}

/** What the customer sees after paying — in whatever browser the app opened (platform-guidelines §10.2). */
export function returnPage(order: Order | undefined, reference: string): string {
  if (!order) {
    return page('Order not found', html`<h1>Order not found</h1><p>We have no order with the reference ${reference}.</p>`);
  }
  const waiting = order.paymentState === 'CREATED' || order.paymentState === 'NEW';
  const paid = order.paymentState === 'AUTHORIZED';
  const failed = ['ABORTED', 'EXPIRED', 'TERMINATED'].includes(order.paymentState);
  return page(
    `Order ${order.number}`,
    html`<h1>Order ${order.number}</h1>
${paid ? html`<p class="notice" role="status">Thank you! Your payment is approved and your order is confirmed.</p>` : ''}
${waiting ? html`<p role="status">We are waiting for the payment to be confirmed… This page updates by itself.</p>` : ''}
${failed ? html`<p class="error" role="alert">The payment was not completed, and you have not been charged. <a href="/cart">Back to the cart</a></p>` : ''}
<p>Status: <span class="status" id="order-status">${statusOf(order)}</span></p>
<p class="muted">Reference ${order.reference}</p>
${orderLinesTable(order)}`,
    waiting ? { refreshSeconds: 2 } : {},
  );
}

function orderLinesTable(order: Order): Html {
  return html`<table>
<thead><tr><th>Product</th><th class="num">Quantity</th><th class="num">Shipped</th><th class="num">Sum</th></tr></thead>
<tbody>${order.lines.map(
    (line) =>
      html`<tr><td>${line.name}</td><td class="num">${line.quantity}</td><td class="num">${line.shipped}</td><td class="num">${money(line.unitPrice * line.quantity, order.currency)}</td></tr>`,
  )}</tbody>
<tfoot><tr><th colspan="3">Total</th><td class="num">${money(order.total, order.currency)}</td></tr></tfoot>
</table>`;
}

export function ordersPage(orders: Order[], notice?: string): string {
  return page(
    'Orders',
    html`<h1>Orders</h1>
${notices(notice)}
<form method="post" action="/admin/keeper/run"><button type="submit" class="secondary">Run the reservation keeper now</button></form>
<table>
<thead><tr><th>Order</th><th>Placed</th><th>Status</th><th class="num">Total</th><th class="num">Captured</th><th class="num">Refunded</th></tr></thead>
<tbody>${orders.map(
      (
        order,
      ) => html`<tr><td><a href="/admin/orders/${encodeURIComponent(order.reference)}">${order.number}</a></td><td>${order.createdAt.slice(0, 16).replace('T', ' ')}</td>
<td>${statusOf(order)}</td><td class="num">${money(order.total, order.currency)}</td><td class="num">${money(order.amounts.captured, order.currency)}</td><td class="num">${money(order.amounts.refunded, order.currency)}</td></tr>`,
    )}</tbody>
</table>`,
  );
}

/** The support view of one order: status, amounts, what to do next, and both histories. */
export function orderPage(order: Order, platformEvents: PaymentEvent[] | string, notice?: string, error?: string): string {
  const a = order.amounts;
  const canShip = order.paymentState === 'AUTHORIZED' && !order.closed && order.lines.some((l) => l.shipped < l.quantity);
  const pending = order.operations.filter((op) => !op.done);
  return page(
    `Order ${order.number}`,
    html`<h1>Order ${order.number}</h1>
${notices(notice, error)}
<p>Status: <span class="status" id="order-status">${statusOf(order)}</span></p>
<p class="muted">Reference ${order.reference} · payment state ${order.paymentState} · placed ${order.createdAt}</p>
<table id="amounts" aria-label="Amounts">
<thead><tr><th>Authorized</th><th>Captured</th><th>Refunded</th><th>Cancelled</th><th>Still reserved</th><th>Shipped goods</th></tr></thead>
<tbody><tr><td>${money(a.authorized, order.currency)}</td><td id="captured">${money(a.captured, order.currency)}</td><td id="refunded">${money(a.refunded, order.currency)}</td>
<td>${money(a.cancelled, order.currency)}</td><td>${money(reserved(order), order.currency)}</td><td>${money(shippedValue(order), order.currency)}</td></tr></tbody>
</table>
${
  canShip
    ? html`<form method="post" action="/admin/orders/${encodeURIComponent(order.reference)}/ship"><fieldset><legend>Ship (captures the value of what is shipped)</legend>
<table><thead><tr><th>Product</th><th class="num">Ordered</th><th class="num">Shipped</th><th class="num">Ship now</th></tr></thead><tbody>
${order.lines.map(
  (line) => html`<tr><td>${line.name}</td><td class="num">${line.quantity}</td><td class="num">${line.shipped}</td>
<td class="num"><label>Ship ${line.name} <input type="number" name="qty_${line.sku}" min="0" max="${line.quantity - line.shipped}" value="${line.quantity - line.shipped}"></label></td></tr>`,
)}
</tbody></table><button type="submit">Ship and capture</button></fieldset></form>`
    : ''
}
${
  refundable(order) > 0
    ? html`<form method="post" action="/admin/orders/${encodeURIComponent(order.reference)}/refund"><fieldset><legend>Refund (up to ${money(refundable(order), order.currency)})</legend>
<label>Amount to refund (${order.currency}) <input type="text" name="amount" inputmode="decimal" required></label> <button type="submit">Refund</button></fieldset></form>`
    : ''
}
${
  !order.closed && (order.paymentState === 'CREATED' || (order.paymentState === 'AUTHORIZED' && reserved(order) > 0))
    ? html`<form method="post" action="/admin/orders/${encodeURIComponent(order.reference)}/close"><fieldset><legend>Close the order</legend>
<p class="muted">Nothing more will ship; whatever is still reserved is released to the customer.</p>
<button type="submit" class="secondary">Close order and release the reservation</button></fieldset></form>`
    : ''
}
${
  pending.length > 0
    ? html`<form method="post" action="/admin/orders/${encodeURIComponent(order.reference)}/retry"><p class="error">${pending.length} payment operation(s) not confirmed yet.</p>
<button type="submit">Retry with the same Idempotency-Key</button></form>`
    : ''
}
<form method="post" action="/admin/orders/${encodeURIComponent(order.reference)}/refresh"><button type="submit" class="secondary">Read the payment again</button></form>
${orderLinesTable(order)}
<h2>History</h2>
<table id="history"><thead><tr><th>Time</th><th>What</th><th>Seen by</th></tr></thead><tbody>
${order.history.map((entry) => html`<tr class="${entry.kind}"><td>${entry.at.replace('T', ' ').slice(0, 19)}</td><td>${entry.text}</td><td>${entry.source}</td></tr>`)}
</tbody></table>
<h2>Payment event log (Vipps MobilePay)</h2>
${
  typeof platformEvents === 'string'
    ? html`<p class="error">${platformEvents}</p>`
    : html`<table id="events"><thead><tr><th>Time</th><th>Event</th><th class="num">Amount</th><th>Success</th><th>pspReference</th><th>Idempotency-Key</th></tr></thead><tbody>
${platformEvents.map(
  (
    event,
  ) => html`<tr><td>${event.timestamp}</td><td>${event.name}</td><td class="num">${money(event.amount.value, event.amount.currency)}</td><td>${event.success ? 'yes' : 'no'}</td>
<td>${event.pspReference}</td><td>${event.idempotencyKey ?? ''}</td></tr>`,
)}</tbody></table>`
}`,
    order.paymentState === 'CREATED' ? { refreshSeconds: 3 } : {},
  );
}

export function errorPage(title: string, message: string): string {
  return page(title, html`<h1>${title}</h1><p class="error" role="alert">${message}</p><p><a href="/">Back to the shop</a></p>`);
}
