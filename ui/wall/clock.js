// The wall's clock: ticks every second in the browser (no server round trip) and reports the
// screen size once, and again after a resize, so the map's zoom fits the panel at 1080p and at 4K.
export default function (component) {
  const { parentElement, data, setStateValue } = component;
  const time = parentElement.querySelector('.time');
  const date = parentElement.querySelector('.date');
  const clock = new Intl.DateTimeFormat(data.locale, { timeZone: data.tz, hour: '2-digit',
    minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const day = new Intl.DateTimeFormat(data.locale, { timeZone: data.tz, year: 'numeric',
    month: 'long', day: 'numeric', weekday: 'short' });
  const tick = () => { const now = new Date(); time.textContent = clock.format(now);
    date.textContent = day.format(now); };
  tick();
  const timer = setInterval(tick, 1000);
  const report = () => {
    const size = { width: window.innerWidth, height: window.innerHeight };
    if (size.width + 'x' + size.height !== data.known) setStateValue('viewport', size);
  };
  report();
  let pending = null;
  const onResize = () => { clearTimeout(pending); pending = setTimeout(report, 500); };
  window.addEventListener('resize', onResize);
  return () => { clearInterval(timer); clearTimeout(pending); window.removeEventListener('resize', onResize); };
}
