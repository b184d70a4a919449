// Text helpers for annotations.
{
  // fold joins the lines of a text written wrapped in the source into one
  // paragraph, as YAML's folded style (>-) would: a notification then
  // shows no line break in the middle of a sentence. The trailing newline
  // of a text block goes.
  fold(s):: std.join(' ', std.split(std.rstripChars(s, '\n'), '\n')),
}
