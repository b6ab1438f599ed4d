// Draws each chart from the Vega-Lite spec in the JSON block after it.
// ast: true evaluates Vega's expressions with its interpreter instead of
// compiling them with Function(), which the page's policy forbids.
document.querySelectorAll("script.chart-spec").forEach((data) => {
  const target = document.getElementById(data.dataset.chart);
  vegaEmbed(target, JSON.parse(data.textContent), {
    ast: true,
    renderer: "svg",
    actions: false,
  }).catch((error) => {
    target.textContent = "The chart failed: " + error;
  });
});
