/** What the shop sells. Prices in minor units (øre), VAT included (epayment-api §4.2). */

export interface Product {
  sku: string;
  name: string;
  description: string;
  /** Minor units, VAT included. */
  price: number;
}

export const CURRENCY = 'NOK';

export const catalog: Product[] = [
  { sku: 'socks-wool', name: 'Wool socks', description: 'Warm socks from Norwegian wool, one pair.', price: 14900 },
  { sku: 'mug-enamel', name: 'Enamel mug', description: 'A camp mug that survives being dropped.', price: 24900 },
  { sku: 'hat-knit', name: 'Knitted hat', description: 'Hand-knitted, one size.', price: 39900 },
  { sku: 'thermos', name: 'Thermos, 0.75 l', description: 'Keeps coffee hot for a whole day on skis.', price: 49900 },
];

export function productBySku(sku: string): Product | undefined {
  return catalog.find((product) => product.sku === sku);
}
