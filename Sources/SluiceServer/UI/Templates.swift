import Mustache

/// The web UI's pages as Mustache templates (`{{x}}` escapes, `{{{x}}}` is markup Sluice made:
/// icons and charts). The views in `Views.swift` fill them; nothing else writes page markup.
enum Templates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in sources {
            do { try library.register(text, named: name) } catch { fatalError("web UI template '\(name)' does not parse: \(error)") }
        }
        return library
    }()

    static func render(_ name: String, _ view: Any) -> String {
        library.render(view, withTemplate: name) ?? "template \(name) is missing"
    }

    static let sources: [String: String] = [
        "layout": """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <title>{{title}} · Sluice</title><link rel="stylesheet" href="/ui/style.css">{{#live}}<script src="/ui/live.js" defer></script>{{/live}}</head>
            <body><header class="top"><a href="/">Sluice</a></header><main>{{{body}}}</main></body></html>
            """,

        "badge": #"<span class="badge {{tone}}">{{{icon}}}{{label}}</span>"#,

        "runRows": """
            <table><thead><tr><th class="w-id">Run</th><th class="wide">Repository</th><th class="wide">Ref</th><th class="wide w-commit">Commit</th>
            <th>State</th><th>Verdict</th><th class="wide">Started (UTC)</th><th class="num w-time">Took</th></tr></thead><tbody>
            {{#runs}}<tr><td><a href="/runs/{{id}}">{{id}}</a></td><td class="wide">{{#link}}<a href="/repositories/{{link}}">{{repository}}</a>{{/link}}{{^link}}{{repository}}{{/link}}</td><td class="wide">{{ref}}</td>
            <td class="wide"><code>{{commit}}</code></td><td>{{#status}}{{> badge}}{{/status}}</td><td>{{#verdict}}{{> badge}}{{/verdict}}</td>
            <td class="wide">{{started}}</td><td class="num">{{took}}</td></tr>{{/runs}}
            {{^runs}}<tr><td colspan="8" class="muted">No runs yet.</td></tr>{{/runs}}</tbody></table>
            """,

        "index": """
            <h1>Sluice</h1>
            <h2>Repositories</h2>
            <div class="cards">{{#repositories}}<div class="card"><h3><a href="/repositories/{{name}}">{{name}}</a></h3>
            <p>{{#health}}{{> badge}}{{/health}}</p>
            {{#lastRun}}<p>Last run <a href="/runs/{{id}}">{{id}}</a>: {{#status}}{{> badge}}{{/status}} {{#verdict}}{{> badge}}{{/verdict}}</p>{{/lastRun}}
            {{^empty(problems)}}<ul class="conditions">{{#problems}}<li>{{#badge}}{{> badge}}{{/badge}} {{message}}</li>{{/problems}}</ul>{{/empty(problems)}}
            </div>{{/repositories}}{{^repositories}}<p class="muted">No repositories configured.</p>{{/repositories}}</div>
            {{^empty(held)}}<h2>Merge requests not run</h2>
            <table><thead><tr><th>Repository</th><th>Ref</th><th class="wide">Head</th><th>Why</th><th></th></tr></thead><tbody>
            {{#held}}<tr><td>{{repository}}</td><td>{{ref}}</td><td class="wide"><code>{{head}}</code></td><td>{{reason}} <span class="muted">since {{since}}</span></td>
            <td>{{#approve}}<form class="inline" method="post" action="/repositories/{{repository}}/approve"><input type="hidden" name="ref" value="{{ref}}">
            <input type="hidden" name="commit" value="{{fullHead}}"><input type="password" name="token" placeholder="API token" required>
            <button>Approve {{head}}</button></form>{{/approve}}</td></tr>{{/held}}</tbody></table>{{/empty(held)}}
            <h2>Runs</h2>
            {{> runRows}}
            <h2>Models</h2>
            <p>{{#models}}<a href="/models/{{.}}">{{.}}</a> {{/models}}{{^models}}<span class="muted">None promoted yet.</span>{{/models}}</p>
            {{^empty(notifications)}}<h2>Notifications</h2>
            <table><thead><tr><th>When</th><th class="wide">Event</th><th>Provider</th><th>State</th><th class="wide">Answer</th></tr></thead><tbody>
            {{#notifications}}<tr><td>{{when}}</td><td class="wide"><a href="{{link}}" title="{{title}}">{{event}}</a></td><td>{{provider}}</td>
            <td>{{#state}}{{> badge}}{{/state}}</td><td class="wide">{{answer}}</td></tr>{{/notifications}}</tbody></table>{{/empty(notifications)}}
            """,

        "repository": """
            <h1>{{name}}</h1>
            <p class="muted">{{url}}</p>
            <h2>Conditions</h2>
            <ul class="conditions">{{#conditions}}<li>{{#badge}}{{> badge}}{{/badge}} <span class="muted">{{reason}}</span> {{message}}</li>{{/conditions}}
            {{^conditions}}<li class="muted">Not reconciled yet.</li>{{/conditions}}</ul>
            <h2>Environments</h2>
            <table><thead><tr><th>Environment</th><th>Version</th><th class="wide">Since (UTC)</th><th>State</th></tr></thead><tbody>
            {{#environments}}<tr><td>{{name}}</td><td>{{#version}}{{model}} <a href="/models/{{model}}">v{{version}}</a>{{/version}}{{^version}}–{{/version}}</td>
            <td class="wide">{{since}}</td><td>{{#state}}{{> badge}}{{/state}} {{detail}}</td></tr>{{/environments}}
            {{^environments}}<tr><td colspan="4" class="muted">No environment deployed yet.</td></tr>{{/environments}}</tbody></table>
            {{^empty(previews)}}<h2>Previews</h2>
            <table><thead><tr><th>Merge request</th><th>Where</th><th>Run</th><th>State</th><th class="wide">Until (UTC)</th></tr></thead><tbody>
            {{#previews}}<tr><td>{{mergeRequest}}</td><td>{{place}}</td><td>{{#run}}<a href="/runs/{{.}}">run {{.}}</a>{{/run}} <code>{{commit}}</code></td>
            <td>{{#state}}{{> badge}}{{/state}} {{detail}}</td><td class="wide">{{until}}</td></tr>{{/previews}}</tbody></table>{{/empty(previews)}}
            {{#model}}<h2>Production model: <a href="/models/{{name}}">{{name}}</a></h2>{{{chart}}}{{/model}}
            <h2>Recent runs</h2>
            {{> runRows}}
            """,

        "run": """
            <section class="verdict {{tone}}"><h1>{{{icon}}}{{heading}}</h1>
            {{^empty(why)}}<ul>{{#why}}<li>{{.}}</li>{{/why}}</ul>{{/empty(why)}}</section>
            <p class="facts"><span>Run {{id}} {{#status}}{{> badge}}{{/status}}</span><span>{{#link}}<a href="/repositories/{{link}}">{{repository}}</a>{{/link}}{{^link}}{{repository}}{{/link}}</span>
            <span>{{ref}}</span><span>commit <code>{{commit}}</code></span><span>{{trigger}}</span><span>took {{took}}</span></p>
            {{#message}}<p>{{message}}</p>{{/message}}
            {{#forgeProblems}}<p class="bad">The merge request was not updated: {{.}}</p>{{/forgeProblems}}
            {{#gate}}<h2>Metrics</h2>
            <p class="muted">Model {{model}}, policy <code>{{policy}}</code>. {{production}}</p>
            <table><thead><tr><th class="w-badge"></th><th>Metric</th><th class="num">Candidate</th><th class="num">Production</th><th class="num wide">Δ</th><th class="wide">Rule</th><th>Result</th></tr></thead><tbody>
            {{#rows}}<tr><td>{{#badge}}{{> badge}}{{/badge}}</td><td>{{name}}</td><td class="num">{{candidate}}</td><td class="num">{{production}}</td>
            <td class="num wide">{{delta}}</td><td class="wide">{{rule}}</td><td>{{reason}}</td></tr>{{/rows}}
            {{^rows}}<tr><td colspan="7" class="muted">The policy has no rules.</td></tr>{{/rows}}</tbody></table>
            {{^empty(checks)}}<h3>Data checks</h3><ul>{{#checks}}<li>{{#badge}}{{> badge}}{{/badge}} {{stage}} on <code>{{data}}</code> ({{rows}} rows){{#problems}}; {{.}}{{/problems}}</li>{{/checks}}</ul>{{/empty(checks)}}
            {{^empty(notes)}}<h3>Notes</h3><ul>{{#notes}}<li>{{.}}</li>{{/notes}}</ul>{{/empty(notes)}}
            <h3>Lineage</h3><table><tbody>{{#lineage}}<tr><th class="w-key">{{name}}</th><td><code>{{value}}</code></td></tr>{{/lineage}}</tbody></table>
            {{/gate}}
            {{^empty(charts)}}<h2>Charts</h2>{{#charts}}<figure class="chart">{{{svg}}}<figcaption>{{caption}} · <a href="{{url}}">image</a></figcaption></figure>{{/charts}}{{/empty(charts)}}
            {{#deploy}}<h2>Deploy</h2><p>{{summary}} {{#result}}{{> badge}}{{/result}}</p>{{/deploy}}
            {{^empty(diff)}}<h3>{{diffTitle}}</h3><pre class="diff">{{#diff}}<span class="{{tone}}">{{text}}</span>
            {{/diff}}</pre>{{/empty(diff)}}
            <h2>Stages</h2>
            <table><thead><tr><th>Stage</th><th>State</th><th class="num w-time">Time</th><th class="wide">Detail</th></tr></thead><tbody>
            {{#stages}}<tr><td><a href="#log-{{name}}">{{name}}</a></td><td>{{#status}}{{> badge}}{{/status}}</td><td class="num">{{time}}</td>
            <td class="wide">{{#cachedFrom}}{{cacheWord}} from <a href="/runs/{{cachedFrom}}">run {{cachedFrom}}</a>{{#scope}} ({{scope}}){{/scope}}: {{/cachedFrom}}{{#job}}Job <code>{{job}}</code>: {{/job}}{{detail}}</td></tr>{{/stages}}</tbody></table>
            <h2>Logs</h2>
            <div id="logs"{{#liveURL}} data-live="{{liveURL}}"{{/liveURL}}>{{#logs}}<h3 id="log-{{stage}}">{{stage}}</h3><pre data-stage="{{stage}}">{{text}}</pre>{{/logs}}</div>
            {{#actions}}<h2>Actions</h2><pre>{{.}}</pre>{{/actions}}
            """,

        "model": """
            <h1>{{model}}</h1>
            <p>{{#production}}In production: version {{.}}.{{/production}}{{^production}}Nothing in production yet.{{/production}}</p>
            <h2>Metrics of every candidate</h2>
            <p>{{#metrics}}{{#current}}<b>{{name}}</b>{{/current}}{{^current}}<a href="?metric={{name}}">{{name}}</a>{{/current}} {{/metrics}}</p>
            {{{chart}}}
            {{^empty(candidates)}}<details><summary>{{metric}} of each candidate, as a table</summary>
            <table><thead><tr><th class="w-id">Run</th><th>Verdict</th><th class="num">{{metric}}</th><th class="num">Production then</th></tr></thead><tbody>
            {{#candidates}}<tr><td><a href="/runs/{{run}}">{{run}}</a></td><td>{{verdict}}</td><td class="num">{{value}}</td><td class="num">{{production}}</td></tr>{{/candidates}}
            </tbody></table></details>{{/empty(candidates)}}
            <h2>Versions</h2>
            <table><thead><tr><th class="w-id">Version</th><th class="wide">Commit</th><th class="w-id">Run</th><th class="num">{{metric}}</th><th>Deployed to</th><th class="wide">Registered (UTC)</th></tr></thead><tbody>
            {{#versions}}<tr><td>{{version}}{{#signed}} <a href="/api/models/{{model}}/versions/{{version}}/attestations" title="signature and attestations">signed</a>{{/signed}}</td><td class="wide"><code>{{commit}}</code></td><td>{{#run}}<a href="/runs/{{.}}">{{.}}</a>{{/run}}</td>
            <td class="num">{{value}}</td><td>{{#environments}}{{.}} {{/environments}}{{^environments}}–{{/environments}}</td><td class="wide">{{created}}</td></tr>{{/versions}}</tbody></table>
            <h2>Promotion log</h2>
            <table><thead><tr><th class="wide">When (UTC)</th><th>Action</th><th>Version</th><th class="wide">From</th><th>Who</th><th>Why</th></tr></thead><tbody>
            {{#log}}<tr><td class="wide">{{when}}</td><td>{{action}}</td><td>{{version}}</td><td class="wide">{{from}}</td><td>{{actor}}</td><td>{{reason}}</td></tr>{{/log}}
            {{^log}}<tr><td colspan="6" class="muted">No promotions yet.</td></tr>{{/log}}</tbody></table>
            {{^empty(steps)}}<h2>Environments</h2>
            <table><thead><tr><th class="wide">When (UTC)</th><th>Version</th><th>Environment</th><th>State</th><th>What happened</th><th>Who</th></tr></thead><tbody>
            {{#steps}}<tr><td class="wide">{{when}}</td><td>{{version}}</td><td>{{environment}}</td><td>{{#state}}{{> badge}}{{/state}}</td><td class="wide">{{detail}}{{#approve}}<form class="inline" method="post" action="/models/{{model}}/versions/{{version}}/approve">
            <input type="hidden" name="to" value="{{environment}}"><input type="text" name="reason" placeholder="why" required>
            <input type="password" name="token" placeholder="API token" required><button>Approve into {{environment}}</button></form>{{/approve}}</td><td>{{actor}}</td></tr>{{/steps}}
            </tbody></table>{{/empty(steps)}}
            """,
    ]
}
