/// The web UI's one stylesheet, served as `/ui/style.css`. Every page fits a 390 px phone
/// and a 1280 px screen without sideways scrolling: tables are fixed-width and wrap long
/// values (URLs, refs, digests), logs wrap, charts scale to their box.
enum Stylesheet {
    static let css = """
    :root{--fg:#1d2330;--muted:#5b6475;--line:#d9dee7;--bg:#fff;--soft:#f4f6f9;--ok:#12783a;--bad:#b3261e;--warn:#8a5a00;--link:#0b57b0}
    *{box-sizing:border-box}
    body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
    header.top{display:flex;gap:1em;align-items:center;padding:.6em 1.2em;border-bottom:1px solid var(--line);background:var(--soft)}
    header.top a{color:var(--fg);text-decoration:none;font-weight:600}
    main{max-width:1180px;margin:0 auto;padding:1em 1.2em 3em}
    a{color:var(--link)}
    h1{font-size:1.5em;margin:.4em 0}h2{font-size:1.2em;margin:1.4em 0 .5em}h3{font-size:1.05em;margin:1.2em 0 .4em}
    p,li{overflow-wrap:anywhere}
    code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
    pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.7em;white-space:pre-wrap;overflow-wrap:anywhere;max-height:32em;overflow-y:auto}
    table{width:100%;table-layout:fixed;border-collapse:collapse;margin:.5em 0 1em}
    th,td{text-align:left;vertical-align:top;padding:.35em .5em;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
    th{font-weight:600;color:var(--muted);font-size:.9em;overflow-wrap:normal}
    td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
    .muted{color:var(--muted)}
    .badge{display:inline-flex;align-items:center;gap:.3em;font-weight:600;overflow-wrap:normal}
    .w-id{width:5.2em}.w-commit{width:9.5em}.w-time{width:5em}.w-badge{width:6.5em}.w-key{width:30%}
    .icon{width:1em;height:1em;flex:none;vertical-align:-.125em}
    .ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}.idle{color:var(--muted)}
    .verdict{border:1px solid var(--line);border-left:6px solid var(--muted);border-radius:6px;padding:.6em 1em;margin:.5em 0 1em;background:var(--soft)}
    .verdict.ok{border-left-color:var(--ok)}.verdict.bad{border-left-color:var(--bad)}.verdict.warn{border-left-color:var(--warn)}
    .verdict h1{margin:.1em 0 .3em;display:flex;gap:.4em;align-items:center;flex-wrap:wrap}
    .verdict ul{margin:.2em 0;padding-left:1.2em;color:var(--fg)}
    .facts{display:flex;flex-wrap:wrap;gap:.3em 1.2em;color:var(--muted);margin:.3em 0}
    .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:.8em}
    .card{border:1px solid var(--line);border-radius:6px;padding:.6em .8em}
    .card h3{margin:.1em 0 .3em}
    ul.conditions{list-style:none;padding:0;margin:.3em 0}ul.conditions li{margin:.15em 0}
    .diff .add{color:var(--ok)}.diff .del{color:var(--bad)}.diff .chg{color:var(--warn)}
    svg.chart{width:100%;height:auto;max-width:720px;display:block}
    figure.chart{margin:0 0 1.2em}figure.chart figcaption{color:#5b6475;font-size:.9em}
    form.inline{display:flex;flex-wrap:wrap;gap:.4em}
    input,button{font:inherit;max-width:100%}
    @media (max-width:640px){
      main{padding:.6em .7em 2em}
      .wide{display:none}
      th,td{padding:.3em .25em;font-size:.92em}
      th{overflow-wrap:anywhere}
      .w-badge{width:5.5em}.w-key{width:40%}
    }
    """
}
