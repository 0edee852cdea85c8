// Copy button for the one-time token display: copies the named input's value.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const input = document.getElementById(button.dataset.copyTarget);
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    // No clipboard API (plain http, old browser): the value stays selected for Ctrl+C.
    return;
  }
  button.textContent = button.dataset.copiedLabel;
});
