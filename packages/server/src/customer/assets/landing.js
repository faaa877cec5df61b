// Landing page: on a phone-sized touch screen the universal link would have opened the app, so switch
// to it at once; on the waiting screen, count down and poll the payment, then go on to returnUrl.
(() => {
  const openApp = document.getElementById('open-app');
  if (openApp && window.matchMedia('(max-width: 600px) and (pointer: coarse)').matches) {
    window.location.replace(openApp.getAttribute('href'));
    return;
  }
  const waiting = document.getElementById('waiting');
  if (!waiting) return;
  const countdown = document.getElementById('countdown');
  const status = document.getElementById('status');
  let secondsLeft = Number(waiting.dataset.secondsLeft || '0');
  const tick = () => {
    secondsLeft = Math.max(0, secondsLeft - 1);
    countdown.textContent = `${Math.floor(secondsLeft / 60)}:${String(secondsLeft % 60).padStart(2, '0')}`;
  };
  setInterval(tick, 1000);
  const poll = async () => {
    try {
      const response = await fetch(waiting.dataset.status, { cache: 'no-store' });
      const body = await response.json();
      // Approved, the bank yet to answer: say so, and offer neither another number nor a cancel.
      document.getElementById('bank-pending').hidden = !body.bankPending;
      document.getElementById('confirm').hidden = body.bankPending;
      document.getElementById('while-waiting').hidden = body.bankPending;
      if (typeof body.secondsLeft === 'number') secondsLeft = body.secondsLeft;
      if (body.final) {
        status.textContent = waiting.dataset.done;
        if (body.returnUrl) window.location.replace(body.returnUrl);
        return;
      }
    } catch {
      // The next poll tries again.
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
})();
