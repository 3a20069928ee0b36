// The dashboard's pages, drawn from the JSON API. Every string from the server is set as
// text (el() below), never parsed as markup. Updates come from /dashboard/events.
'use strict'
;(() => {
  const body = document.body
  const PAGE = body.dataset.page
  const KIND = body.dataset.kind // internal | user | agent
  const SELF = body.dataset.entity
  const CSRF = document.querySelector('meta[name="csrf-token"]').content
  const content = document.getElementById('content')
  const PLATFORMS = ['twitch', 'youtube', 'kick', 'facebook', 'custom', 'retake', 'x']
  const STATUSES = ['initializing', 'pending', 'live', 'ended', 'error']

  // ---- building blocks ----

  /** `node`'s children replaced by `children`, leaving out the absent ones. */
  function fill(node, ...children) {
    node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false))
  }

  /** An element with attributes (`on*` functions become listeners) and children. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag)
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue
      if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value)
      else if (name === 'dataset') Object.assign(node.dataset, value)
      else if (value === true) node.setAttribute(name, '')
      else node.setAttribute(name, String(value))
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue
      node.append(child instanceof Node ? child : document.createTextNode(String(child)))
    }
    return node
  }

  class ApiError extends Error {
    constructor(message, code, status) {
      super(message)
      this.code = code
      this.status = status
    }
  }

  /** Calls the API with the login's cookie and CSRF token; JSON in and out. */
  async function api(method, path, payload) {
    const headers = { 'x-csrf-token': CSRF }
    if (payload !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: payload === undefined ? undefined : JSON.stringify(payload),
    })
    if (response.status === 401) {
      location.assign('/dashboard/login')
      throw new ApiError('signed out', 'UNAUTHORIZED', 401)
    }
    const data = await response.json().catch(() => ({}))
    if (!response.ok) throw new ApiError(data.error || response.statusText, data.code || 'ERROR', response.status)
    return data
  }

  function query(params) {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, String(v))
    const text = q.toString()
    return text ? `?${text}` : ''
  }

  function say(text, isError) {
    const notice = document.getElementById('notice')
    notice.textContent = text
    notice.className = isError ? 'notice error' : 'notice'
    notice.hidden = !text
  }

  function failed(error) {
    say(error instanceof ApiError ? `${error.message} (${error.code})` : String(error), true)
  }

  /** Runs `action` with `button` disabled meanwhile; errors are shown. */
  async function busy(button, action) {
    button.disabled = true
    try {
      await action()
    } catch (e) {
      failed(e)
    } finally {
      button.disabled = false
    }
  }

  const pad = (n) => String(n).padStart(2, '0')
  function duration(ms) {
    const s = Math.max(0, Math.floor(ms / 1000))
    return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
  }
  function when(ms) {
    if (!ms) return '—'
    const d = new Date(ms)
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`
  }
  const money = (usd) => `$${usd.toFixed(2)}`
  const isActive = (status) => !['ended', 'error'].includes(status)
  const entityLabel = (v) => `${v.streamType} ${v.entityName ? `${v.entityName} (${v.entityId})` : v.entityId}`
  const badge = (text, kind) => el('span', { class: `badge ${kind || text}` }, text)
  function facts(pairs) {
    return el('dl', { class: 'facts' }, pairs.map(([k, v, attrs]) => el('div', {}, el('dt', {}, k), el('dd', attrs || {}, v))))
  }
  function select(name, options, value, blank) {
    return el(
      'select',
      { name, id: name },
      blank === undefined ? null : el('option', { value: '' }, blank),
      options.map((o) => el('option', { value: o, selected: o === value }, o)),
    )
  }
  function field(label, input) {
    return el('div', {}, el('label', { for: input.id || input.name }, label), input)
  }
  function check(name, label, checked) {
    return el('label', { class: 'check' }, el('input', { type: 'checkbox', name, id: name, checked }), label)
  }

  /** The event stream of this page. */
  function follow(params, handlers) {
    const source = new EventSource(`/dashboard/events${query(params)}`)
    for (const [name, handler] of Object.entries(handlers)) {
      source.addEventListener(name, (e) => handler(JSON.parse(e.data)))
    }
    return source
  }

  // Durations tick on the page itself, once a second.
  setInterval(() => {
    for (const node of document.querySelectorAll('[data-since]')) {
      node.textContent = duration(Date.now() - Number(node.dataset.since))
    }
  }, 1000)

  /** The destination list of a session, with remove buttons when `removable`. */
  function destinationList(view, removable) {
    return el(
      'ul',
      { class: 'destinations' },
      view.destinations.map((d) =>
        el(
          'li',
          { dataset: { destination: d.id } },
          badge(d.status),
          el('b', {}, d.platform),
          d.primary ? el('span', { class: 'muted' }, 'primary') : null,
          el('span', { class: 'url' }, d.url),
          d.warning ? el('span', { class: 'warning' }, d.warning) : null,
          d.errorMessage ? el('span', { class: 'error' }, d.errorMessage) : null,
          removable && !d.primary && d.status === 'active'
            ? el('button', {
                class: 'secondary',
                'data-action': 'remove-destination',
                onclick: (e) =>
                  busy(e.target, async () => {
                    await api('POST', '/api/streaming/update-destinations', { sessionId: view.sessionId, remove: [d.id] })
                    say(`Removed the ${d.platform} destination.`)
                  }),
              }, 'Remove')
            : null,
        ),
      ),
    )
  }

  // ---- Live ----

  function livePage() {
    const cards = new Map()
    const grid = el('div', { class: 'cards', id: 'cards' })
    const empty = el('p', { class: 'muted', id: 'no-sessions' }, 'No active sessions. ', el('a', { href: '/dashboard/start' }, 'Start one.'))
    fill(content, empty, grid)

    function card(view) {
      const preview = el('img', { alt: `Preview of ${view.streamTitle}`, 'data-preview': view.sessionId })
      const box = el('div', { class: 'preview' }, el('span', {}, 'No preview yet'))
      preview.addEventListener('load', () => fill(box, preview))
      preview.addEventListener('error', () => fill(box, el('span', {}, 'No preview yet')))
      const info = el('div', { class: 'info' })
      const key = el('input', { type: 'password', name: 'streamKey', placeholder: 'stream key', autocomplete: 'off' })
      const url = el('input', { type: 'url', name: 'customRtmpUrl', placeholder: 'rtmp(s):// URL (custom)' })
      const platform = select('platform', PLATFORMS, 'twitch')
      const add = el('form', {
        class: 'row add-destination',
        onsubmit: (e) => {
          e.preventDefault()
          busy(e.submitter || add, async () => {
            const input = { platform: platform.value, streamKey: key.value }
            if (url.value) input.customRtmpUrl = url.value
            await api('POST', '/api/streaming/update-destinations', { sessionId: view.sessionId, add: [input] })
            key.value = ''
            url.value = ''
            say(`Added a ${input.platform} destination.`)
          })
        },
      }, platform, key, url, el('button', { type: 'submit' }, 'Add destination'))
      const stop = el('button', {
        class: 'danger',
        'data-action': 'stop',
        onclick: (e) =>
          busy(e.target, async () => {
            await api('POST', '/api/streaming/stop', { sessionId: view.sessionId, reason: 'manual' })
            say(`Stopped ${view.streamTitle}.`)
          }),
      }, 'Stop stream')
      const node = el('article', { class: 'card', dataset: { session: view.sessionId } }, box,
        el('div', { class: 'body' }, info, el('h3', {}, 'Add a destination'), add, el('p', {}, stop, ' ',
          el('a', { href: `/dashboard/session${query({ sessionId: view.sessionId })}` }, 'Details'))))
      return { node, info, preview }
    }

    function paint(entry, view) {
      fill(entry.info,
        el('h2', {}, view.streamTitle),
        el('p', {}, badge(view.status), ' ', view.dryRun ? badge('dry run', 'dry') : null, ' ', entityLabel(view), ' on ', view.platform),
        facts([
          ['On air', view.startedAt ? duration(Date.now() - view.startedAt) : 'not yet', view.startedAt ? { dataset: { since: view.startedAt } } : {}],
          ['Viewers', view.viewerCount],
          ['Peak', view.peakViewerCount],
          ['Decisions', view.decisionsLogged],
          ['Events', view.eventsRecorded],
        ]),
        view.errorMessage ? el('p', { class: 'error' }, view.errorMessage) : null,
        destinationList(view, true),
      )
    }

    function upsert(view) {
      let entry = cards.get(view.sessionId)
      if (!isActive(view.status)) {
        if (entry) entry.node.remove()
        cards.delete(view.sessionId)
      } else {
        if (!entry) {
          entry = card(view)
          cards.set(view.sessionId, entry)
          grid.prepend(entry.node)
          refresh(entry)
        }
        paint(entry, view)
      }
      empty.hidden = cards.size > 0
    }

    function refresh(entry) {
      entry.preview.src = `/api/streaming/thumbnail${query({ sessionId: entry.node.dataset.session, t: Date.now() })}`
    }

    async function load() {
      try {
        const list = await api('GET', `/api/streaming/sessions${query({ active: true, limit: 100 })}`)
        const ids = new Set(list.sessions.map((s) => s.sessionId))
        for (const [id, entry] of cards) if (!ids.has(id)) { entry.node.remove(); cards.delete(id) }
        for (const view of list.sessions.reverse()) upsert(view)
        empty.hidden = cards.size > 0
        body.dataset.loaded = '1'
      } catch (e) {
        failed(e)
      }
    }

    follow({}, { ready: load, session: upsert, tick: () => cards.forEach(refresh) })
  }

  // ---- Start ----

  function startPage() {
    const internal = KIND === 'internal'
    const streamType = select('streamType', ['user', 'agent'], KIND === 'user' ? 'user' : 'agent')
    const entityId = el('input', { name: 'entityId', id: 'entityId', required: internal, value: SELF, readonly: !internal })
    const theme = select('theme', ['dark', 'light'], 'dark')
    const frame = el('iframe', { title: 'Overlay preview', src: '/stream/overlay?preview=1&theme=dark' })
    theme.addEventListener('change', () => { frame.src = `/stream/overlay${query({ preview: 1, theme: theme.value })}` })
    const form = el('form', { class: 'panel', id: 'start-form' },
      internal ? el('div', { class: 'row' }, field('Stream for', streamType), field('Id', entityId)) : el('p', {}, `Streaming as ${KIND} ${SELF}`),
      el('div', { class: 'row' },
        field('Name on the overlay', el('input', { name: 'entityName', id: 'entityName' })),
        field('Title', el('input', { name: 'streamTitle', id: 'streamTitle', placeholder: 'LTCG Live' }))),
      el('div', { class: 'row' },
        field('Platform', select('platform', PLATFORMS, 'twitch')),
        field('Stream key', el('input', { type: 'password', name: 'streamKey', id: 'streamKey', autocomplete: 'off' })),
        field('Custom RTMP(S) URL', el('input', { type: 'url', name: 'customRtmpUrl', id: 'customRtmpUrl' }))),
      check('useStoredCredentials', 'Use the stored credentials instead (see Platforms)', false),
      check('dryRun', 'Dry run (Twitch bandwidth test: no viewer sees it)', false),
      el('h3', {}, 'Overlay'),
      el('div', { class: 'row' }, field('Theme', theme)),
      check('showDecisions', 'Agent decisions', true),
      check('showAgentInfo', 'Agent info', true),
      check('showEventFeed', 'Event feed', true),
      el('p', {}, el('button', { type: 'submit' }, 'Start stream')),
    )
    form.addEventListener('submit', (e) => {
      e.preventDefault()
      const v = (name) => form.elements[name].value.trim()
      const on = (name) => form.elements[name].checked
      const type = internal ? streamType.value : KIND
      const request = {
        streamType: type,
        platform: v('platform'),
        useStoredCredentials: on('useStoredCredentials'),
        dryRun: on('dryRun'),
        overlayConfig: { theme: theme.value, showDecisions: on('showDecisions'), showAgentInfo: on('showAgentInfo'), showEventFeed: on('showEventFeed') },
      }
      if (internal) request[type === 'user' ? 'userId' : 'agentId'] = v('entityId')
      for (const name of ['entityName', 'streamTitle', 'streamKey', 'customRtmpUrl']) if (v(name)) request[name] = v(name)
      if (request.useStoredCredentials) { delete request.platform; delete request.streamKey; delete request.customRtmpUrl }
      busy(e.submitter || form, async () => {
        const started = await api('POST', '/api/streaming/start', request)
        form.elements.streamKey.value = ''
        say(`Started session ${started.sessionId}.`)
        location.assign('/dashboard')
      })
    })
    fill(content, el('div', { class: 'start-grid' }, form,
      el('div', {}, el('h2', {}, 'Overlay preview'), el('div', { class: 'overlay-frame' }, frame),
        el('p', { class: 'muted' }, 'Sample data, in the chosen theme, as the egress renders it at 1280×720.'))))
  }

  // ---- History ----

  function historyPage() {
    const params = new URLSearchParams(location.search)
    const dayMs = (date, end) => (date ? Date.parse(`${date}T00:00:00Z`) + (end ? 86_400_000 : 0) : '')
    const form = el('form', { class: 'panel row', id: 'filters', method: 'get' },
      field('Status', select('status', STATUSES, params.get('status') || '', 'any')),
      field('Platform', select('platform', PLATFORMS, params.get('platform') || '', 'any')),
      KIND === 'internal' ? field('Kind', select('streamType', ['user', 'agent'], params.get('streamType') || '', 'any')) : null,
      KIND === 'internal' ? field('Entity id', el('input', { name: 'entityId', id: 'entityId', value: params.get('entityId') || '' })) : null,
      field('From (UTC)', el('input', { type: 'date', name: 'from', id: 'from', value: params.get('from') || '' })),
      field('To (UTC)', el('input', { type: 'date', name: 'to', id: 'to', value: params.get('to') || '' })),
      el('div', {}, el('button', { type: 'submit' }, 'Filter')))
    const table = el('table', { id: 'history' })
    const pager = el('div', { class: 'pager' })
    fill(content, form, el('div', { class: 'panel' }, table, pager))
    const pages = [null]

    async function show(cursor) {
      const list = await api('GET', `/api/streaming/sessions${query({
        status: params.get('status'), platform: params.get('platform'), streamType: params.get('streamType'),
        entityId: params.get('entityId'), since: dayMs(params.get('from'), false), until: dayMs(params.get('to'), true),
        cursor, limit: 20,
      })}`)
      fill(table,
        el('thead', {}, el('tr', {}, ['Created', 'Who', 'Title', 'Platform', 'Status', 'Duration', 'Peak viewers', 'End reason'].map((h) => el('th', {}, h)))),
        el('tbody', {}, list.sessions.map((s) =>
          el('tr', { dataset: { session: s.sessionId } },
            el('td', {}, el('a', { href: `/dashboard/session${query({ sessionId: s.sessionId })}` }, when(s.createdAt))),
            el('td', {}, entityLabel(s)), el('td', {}, s.streamTitle), el('td', {}, s.platform),
            el('td', {}, badge(s.status), s.dryRun ? badge('dry run', 'dry') : null),
            el('td', { class: 'num' }, duration(s.duration)), el('td', { class: 'num' }, s.peakViewerCount),
            el('td', {}, s.endReason || '')))),
      )
      if (!list.sessions.length) table.append(el('caption', {}, 'No sessions match.'))
      const page = pages.indexOf(cursor)
      fill(pager,
        el('button', { class: 'secondary', disabled: page <= 0, onclick: () => show(pages[page - 1]).catch(failed) }, 'Newer'),
        el('span', { class: 'muted' }, `Page ${page + 1}`),
        el('button', { class: 'secondary', disabled: !list.nextCursor, onclick: () => { if (!pages.includes(list.nextCursor)) pages.push(list.nextCursor); show(list.nextCursor).catch(failed) } }, 'Older'),
      )
      body.dataset.loaded = '1'
    }
    show(null).catch(failed)
  }

  // ---- Charts ----

  /** A uPlot chart in `target`: `x` values and named series (`bars` for bars). */
  function chart(target, title, x, series, options) {
    const o = options || {}
    const labels = o.labels
    const width = Math.max(320, target.clientWidth || 560)
    const colors = ['#7c5cff', '#2fbf71', '#e8a33d', '#e5484d', '#38bdf8']
    const plot = new uPlot({
      title,
      width,
      height: 240,
      scales: { x: o.range ? { time: true, range: () => o.range } : labels ? { time: false, range: (_, lo, hi) => [lo - 0.5, hi + 0.5] } : { time: true } },
      axes: [
        labels ? { stroke: '#9aa1b2', grid: { stroke: '#2a2f3d' }, values: (_, ticks) => ticks.map((t) => labels[t] ?? '') } : { stroke: '#9aa1b2', grid: { stroke: '#2a2f3d' } },
        { stroke: '#9aa1b2', grid: { stroke: '#2a2f3d' } },
      ],
      series: [{}, ...series.map((s, i) => ({
        label: s.label,
        stroke: colors[i % colors.length],
        fill: o.bars ? `${colors[i % colors.length]}aa` : undefined,
        width: 2,
        paths: o.bars ? uPlot.paths.bars({ size: [0.6, 60] }) : undefined,
        points: { show: x.length < 40 },
      }))],
    }, [x, ...series.map((s) => s.values)], target)
    target.dataset.points = String(x.length)
    return plot
  }

  // ---- Session ----

  function sessionPage() {
    const id = new URLSearchParams(location.search).get('sessionId') || ''
    const head = el('div', { id: 'session-head' })
    const viewers = el('div', { class: 'panel chart', id: 'viewer-chart' })
    const timeline = el('ol', { class: 'timeline', id: 'timeline' })
    fill(content, head, el('h2', {}, 'Viewers'), viewers, el('h2', {}, 'Timeline'), el('div', { class: 'panel' }, timeline))
    let plot = null

    function render(view) {
      document.querySelector('main h1').textContent = view.streamTitle
      fill(head,
        el('p', {}, badge(view.status), ' ', view.dryRun ? badge('dry run', 'dry') : null, ' ', entityLabel(view), ' on ', view.platform, ' · ', el('code', {}, view.sessionId)),
        facts([
          ['Duration', view.startedAt && isActive(view.status) ? duration(Date.now() - view.startedAt) : duration(view.duration), view.startedAt && isActive(view.status) ? { dataset: { since: view.startedAt } } : {}],
          ['Viewers', view.viewerCount], ['Peak viewers', view.peakViewerCount],
          ['Decisions', view.decisionsLogged], ['Events', view.eventsRecorded],
          ['Created', when(view.createdAt)], ['Started', when(view.startedAt)], ['Ended', when(view.endedAt)],
          ['End reason', view.endReason || '—'],
        ]),
        view.errorMessage ? el('p', { class: 'error', id: 'session-error' }, view.errorMessage) : null,
        el('h2', {}, 'Destinations'), destinationList(view, isActive(view.status)),
      )
    }

    async function details() {
      const [t, v] = await Promise.all([
        api('GET', `/api/streaming/timeline${query({ sessionId: id })}`),
        api('GET', `/api/streaming/viewers${query({ sessionId: id })}`),
      ])
      fill(timeline, ...t.timeline.map((e) =>
        el('li', { dataset: { kind: e.kind, status: e.status } }, el('span', {}, when(e.at)), el('b', {}, e.kind), badge(e.status), el('span', { class: 'cause' }, e.cause || ''))))
      const times = [...new Set(v.samples.map((s) => Math.floor(s.at / 1000)))].sort((a, b) => a - b)
      const total = times.map((t) => v.samples.filter((s) => Math.floor(s.at / 1000) === t).reduce((n, s) => n + s.viewers, 0))
      if (plot) plot.destroy()
      fill(viewers)
      if (times.length) plot = chart(viewers, 'Viewers (all destinations)', times, [{ label: 'viewers', values: total }])
      else viewers.append(el('p', { class: 'muted' }, 'No viewer counts yet.'))
      body.dataset.loaded = '1'
    }

    details().then(() => follow({ sessionId: id }, { session: (view) => { render(view); details().catch(failed) } })).catch(failed)
  }

  // ---- Analytics ----

  function analyticsPage() {
    const range = select('days', ['7', '30', '90', '365'], '30')
    const dry = el('input', { type: 'checkbox', id: 'includeDryRuns' })
    const out = el('div', { id: 'analytics' })
    fill(content, el('form', { class: 'panel row' }, field('Days', range), el('label', { class: 'check' }, dry, 'Include dry runs')), out)
    range.addEventListener('change', () => show().catch(failed))
    dry.addEventListener('change', () => show().catch(failed))
    const dayX = (key) => Date.parse(`${key}T00:00:00Z`) / 1000

    async function show() {
      const since = Date.now() - Number(range.value) * 86_400_000
      const ask = (groupBy) => api('GET', `/api/streaming/analytics${query({ since, groupBy, includeDryRuns: dry.checked })}`)
      const [days, months, platforms] = await Promise.all([ask('day'), ask('month'), ask('platform')])
      const t = days.totals
      const charts = el('div', { class: 'charts' })
      const slot = (id) => { const node = el('div', { class: 'panel chart', id }); charts.append(node); return node }
      const reasons = Object.entries(t.endReasons)
      fill(out,
        facts([
          ['Sessions', t.sessions], ['Hours streamed', t.hoursStreamed.toFixed(2)], ['Average viewers', t.averageViewers.toFixed(1)],
          ['Peak viewers', t.peakViewers], ['Decisions', t.decisions], ['Events', t.events], ['Errors', t.errors],
          ['Error rate', `${(t.errorRate * 100).toFixed(1)}%`], ['Estimated cost', money(t.estimatedCostUsd)],
        ]),
        el('p', { class: 'muted', id: 'free-tier' }, days.freeTierNote),
        charts,
        el('h2', {}, 'Cost per month'),
        el('table', { id: 'months' }, el('tr', {}, el('th', {}, 'Month'), el('th', { class: 'num' }, 'Sessions'), el('th', { class: 'num' }, 'Hours'), el('th', { class: 'num' }, 'Cost')),
          months.rows.map((r) => el('tr', {}, el('td', {}, r.key), el('td', { class: 'num' }, r.sessions), el('td', { class: 'num' }, r.hoursStreamed.toFixed(2)), el('td', { class: 'num' }, money(r.estimatedCostUsd))))),
        el('h2', {}, 'Errors by end reason'),
        el('table', { id: 'reasons' }, el('tr', {}, el('th', {}, 'End reason'), el('th', { class: 'num' }, 'Sessions')),
          reasons.map(([reason, n]) => el('tr', {}, el('td', {}, reason), el('td', { class: 'num' }, n)))),
      )
      const x = days.rows.map((r) => dayX(r.key))
      const span = { range: [dayX(new Date(since).toISOString().slice(0, 10)) - 43_200, Date.now() / 1000 + 43_200] }
      chart(slot('chart-hours'), 'Hours streamed per day', x, [{ label: 'hours', values: days.rows.map((r) => r.hoursStreamed) }], { bars: true, ...span })
      const names = platforms.rows.map((r) => r.key)
      chart(slot('chart-platforms'), 'Sessions per platform', names.map((_, i) => i), [{ label: 'sessions', values: platforms.rows.map((r) => r.sessions) }], { bars: true, labels: names })
      chart(slot('chart-viewers'), 'Peak and average viewers per day', x, [
        { label: 'peak', values: days.rows.map((r) => r.peakViewers) },
        { label: 'average', values: days.rows.map((r) => r.averageViewers) },
      ], span)
      chart(slot('chart-errors'), 'Errors per end reason', reasons.map((_, i) => i), [{ label: 'sessions', values: reasons.map(([, n]) => n) }], { bars: true, labels: reasons.map(([r]) => r) })
      chart(slot('chart-cost'), 'Estimated cost per day (USD)', x, [{ label: 'USD', values: days.rows.map((r) => r.estimatedCostUsd) }], span)
      const m = months.rows.map((r) => r.key)
      chart(slot('chart-cost-month'), 'Estimated cost per month (USD)', m.map((_, i) => i), [{ label: 'USD', values: months.rows.map((r) => r.estimatedCostUsd) }], { bars: true, labels: m })
      body.dataset.loaded = '1'
    }
    show().catch(failed)
  }

  // ---- Platforms ----

  function platformsPage() {
    const internal = KIND === 'internal'
    const streamType = select('streamType', ['user', 'agent'], 'agent')
    const entityId = el('input', { name: 'entityId', id: 'entityId', placeholder: 'agent or user id' })
    const current = el('div', { class: 'panel', id: 'credentials' })
    const form = el('form', { class: 'panel', id: 'credential-form' },
      el('h2', {}, 'Set or replace'),
      el('div', { class: 'row' },
        field('Platform', select('platform', PLATFORMS, 'twitch')),
        field('Stream key', el('input', { type: 'password', name: 'streamKey', id: 'credentialKey', autocomplete: 'off' })),
        field('Custom RTMP(S) URL', el('input', { type: 'url', name: 'customRtmpUrl', id: 'credentialUrl' })),
        field('Channel', el('input', { name: 'channel', id: 'channel' }))),
      check('autoStart', 'Start streaming by itself when a game starts', false),
      el('p', {}, el('button', { type: 'submit' }, 'Save')))
    const target = () => {
      if (!internal) return {}
      return (streamType.value === 'user' ? { userId: entityId.value.trim() } : { agentId: entityId.value.trim() })
    }
    async function load() {
      if (internal && !entityId.value.trim()) {
        fill(current, el('p', { class: 'muted' }, 'Choose a user or agent.'))
        return
      }
      try {
        const c = await api('GET', `/api/streaming/platforms${query(target())}`)
        fill(current,
          el('h2', {}, `Stored for ${c.streamType} ${c.entityId}`),
          facts([
            ['Platform', c.platform],
            ['Stream key', c.hasStreamKey ? 'set (never shown)' : 'not set', { id: 'key-state' }],
            ['Custom URL', c.customRtmpUrl || '—'], ['Channel', c.channel || '—'],
            ['Starts by itself', c.autoStart ? 'yes' : 'no'], ['Updated', when(c.updatedAt)],
          ]),
          el('button', { class: 'danger', 'data-action': 'delete-credentials', onclick: (e) => busy(e.target, async () => {
            await api('DELETE', `/api/streaming/platforms${query(target())}`)
            say('Deleted the stored credentials.')
            await load()
          }) }, 'Delete'),
        )
      } catch (e) {
        if (e.code !== 'NOT_FOUND') throw e
        fill(current, el('p', { class: 'muted', id: 'key-state' }, 'Nothing stored yet.'))
      }
      body.dataset.loaded = '1'
    }
    form.addEventListener('submit', (e) => {
      e.preventDefault()
      const v = (name) => form.elements[name].value.trim()
      const request = { ...target(), platform: v('platform'), autoStart: form.elements.autoStart.checked }
      for (const name of ['streamKey', 'customRtmpUrl', 'channel']) if (v(name)) request[name] = v(name)
      busy(e.submitter || form, async () => {
        await api('PUT', '/api/streaming/platforms', request)
        form.elements.streamKey.value = ''
        say('Saved. The key is stored encrypted and never shown again.')
        await load()
      })
    })
    fill(content,
      internal ? el('form', { class: 'panel row', id: 'whose', onsubmit: (e) => { e.preventDefault(); load().catch(failed) } },
        field('Kind', streamType), field('Id', entityId), el('div', {}, el('button', { type: 'submit' }, 'Show'))) : null,
      current, form)
    load().catch(failed)
  }

  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === PAGE || (PAGE === 'session' && link.dataset.nav === 'history')) link.classList.add('current')
  }
  const pages = { live: livePage, start: startPage, history: historyPage, session: sessionPage, analytics: analyticsPage, platforms: platformsPage }
  ;(pages[PAGE] || livePage)()
})()
