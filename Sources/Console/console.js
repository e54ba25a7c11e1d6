// The console's only script: confirmation before every action, and the overview's refresh.
document.addEventListener('submit', function (event) {
  var question = event.target.getAttribute('data-confirm');
  if (question && !window.confirm(question)) event.preventDefault();
});
var refresh = document.body.getAttribute('data-refresh');
if (refresh) setTimeout(function () { window.location.reload(); }, Number(refresh) * 1000);
