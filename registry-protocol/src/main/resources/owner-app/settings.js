// Mail settings as a definition list (the pairing's done screen and the box's own app show the same).
export function showSettings(list, settings) {
  list.replaceChildren();
  for (const [term, value] of Object.entries(settings)) {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = value;
    list.append(dt, dd);
  }
}
