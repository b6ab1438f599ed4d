// Draws each chart from the Vega-Lite spec in the JSON block after it.
// ast: true evaluates Vega's expressions with its interpreter instead of
// compiling them with Function(), which the page's policy forbids.
// A link ending in #colour_by=loss opens the page with a chart's choice
// (a Vega signal of that name) already made.
const choices = new URLSearchParams(location.hash.slice(1));
document.querySelectorAll("script.chart-spec").forEach((data) => {
  const target = document.getElementById(data.dataset.chart);
  vegaEmbed(target, JSON.parse(data.textContent), {
    ast: true,
    renderer: "svg",
    actions: false,
  })
    .then(({ view }) => {
      for (const [name, value] of choices) {
        try {
          view.signal(name, value);
        } catch (notThisChart) {
          // Vega throws for a signal the chart does not have.
        }
      }
      return view.runAsync();
    })
    .catch((error) => {
      target.textContent = "The chart failed: " + error;
    });
});
