// The centre's enrolment form (operator.html): the certification chosen, written in full under
// its list (a closed list cuts a long title on a phone), follows the list. Without a script
// the page writes the one it selects.
"use strict";
(() => {
  const list = document.getElementById("certification_code");
  const words = document.getElementById("certification-chosen-words");
  if (!list || !words) return;
  const show = () => {
    const option = list.options[list.selectedIndex];
    if (option) words.textContent = option.text;
  };
  list.addEventListener("change", show);
  // A browser that restores the form (back, reload) may select another one than the page did.
  window.addEventListener("pageshow", show);
  show();
})();
