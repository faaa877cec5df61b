// Wallet-app simulator: reload the screen when what it shows changed on the server (a push message
// arrived, the store captured or refunded), without interrupting someone who is typing.
(() => {
  const polled = document.querySelector('[data-poll]');
  if (!polled) return;
  // Once the user answered, the form's own navigation (to returnUrl or the receipt) decides what comes
  // next: a reload because the poll saw the new state would cancel it.
  let submitting = false;
  document.addEventListener('submit', () => {
    submitting = true;
  });
  const busy = () => {
    const active = document.activeElement;
    return (
      active &&
      (active.tagName === 'INPUT' || active.tagName === 'TEXTAREA') &&
      active.type !== 'radio' &&
      active.type !== 'checkbox' &&
      active.value !== ''
    );
  };
  const poll = async () => {
    if (submitting) return;
    try {
      const response = await fetch(polled.dataset.poll, { cache: 'no-store' });
      if (response.ok) {
        const body = await response.json();
        if (body.version && body.version !== polled.dataset.version && !busy() && !submitting) {
          window.location.reload();
          return;
        }
      }
    } catch {
      // The next poll tries again.
    }
    setTimeout(poll, 1500);
  };
  setTimeout(poll, 1500);

  // Express: show the total with the chosen shipping option.
  const amount = document.getElementById('amount');
  const total = document.getElementById('total');
  if (amount && total) {
    const format = new Intl.NumberFormat('en-GB', { style: 'currency', currency: amount.dataset.currency });
    for (const radio of document.querySelectorAll('input[name="shipping"]')) {
      radio.addEventListener('change', () => {
        total.textContent = format.format((Number(amount.dataset.base) + Number(radio.dataset.cost)) / 100);
      });
    }
  }
})();
