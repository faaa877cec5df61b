/**
 * The cart lives in a cookie (`cart=sku:qty,sku:qty`): nothing on the server until checkout. The order,
 * not the cart, is what the payment refers to, so the return page needs no cookie at all.
 */
import { productBySku } from './catalog.ts';

export type Cart = Map<string, number>;

const MAX_QUANTITY = 20;

export function parseCart(cookieHeader: string | undefined): Cart {
  const cart: Cart = new Map();
  const raw = cookieHeader
    ?.split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith('cart='))
    ?.slice('cart='.length);
  for (const item of decodeURIComponent(raw ?? '').split(',')) {
    const [sku = '', quantity = ''] = item.split(':');
    const n = Number(quantity);
    if (productBySku(sku) && Number.isInteger(n) && n > 0) cart.set(sku, Math.min(n, MAX_QUANTITY));
  }
  return cart;
}

export function cartCookie(cart: Cart): string {
  const value = [...cart].map(([sku, quantity]) => `${sku}:${quantity}`).join(',');
  const maxAge = value ? 7 * 24 * 3600 : 0;
  return `cart=${encodeURIComponent(value)}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax`;
}

export function addToCart(cart: Cart, sku: string, quantity = 1): Cart {
  if (!productBySku(sku)) return cart;
  const next = new Map(cart);
  next.set(sku, Math.min((next.get(sku) ?? 0) + quantity, MAX_QUANTITY));
  return next;
}

export function setQuantity(cart: Cart, sku: string, quantity: number): Cart {
  const next = new Map(cart);
  if (quantity <= 0) next.delete(sku);
  else if (productBySku(sku)) next.set(sku, Math.min(quantity, MAX_QUANTITY));
  return next;
}
