// Hearth Mail works without this file; it only asks before deleting for good and closes the folder
// panel on a phone once a folder is chosen. No inline scripts anywhere: the CSP allows only this file.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[name=action][value=delete]");
  if (button && button.textContent.includes("for good") && !window.confirm("Delete for good? This cannot be undone.")) {
    event.preventDefault();
  }
});
