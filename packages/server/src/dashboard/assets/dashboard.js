// Kassa dashboard, Clock & faults page: the clocks tick (each keeps its offset from real time), and the
// fault form offers only the fault kinds and fields of the chosen target. The page works without it.
(() => {
  const ticks = document.querySelectorAll('time.tick');
  if (ticks.length > 0) {
    const started = Date.now();
    const base = [...ticks].map((el) => Date.parse(el.getAttribute('datetime')));
    const show = () => {
      const elapsed = Date.now() - started;
      ticks.forEach((el, i) => {
        el.textContent = new Date(base[i] + elapsed).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
      });
    };
    show();
    setInterval(show, 1000);
  }

  const form = document.querySelector('form.fault-form');
  if (!form) return;
  const target = form.querySelector('#target');
  const kind = form.querySelector('#kind');
  const apply = () => {
    const chosen = target.value;
    for (const option of kind.options) option.hidden = option.dataset.target !== chosen;
    if (kind.selectedOptions[0]?.hidden) kind.value = [...kind.options].find((o) => !o.hidden).value;
    for (const part of form.querySelectorAll('[data-for]')) part.hidden = part.dataset.for !== chosen;
  };
  target.addEventListener('change', apply);
  apply();
})();
