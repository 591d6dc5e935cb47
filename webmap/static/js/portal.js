// What the portal's page scripts share, once: the API calls (cookie session, the page's
// language), the CSRF token, safe text, the appeal statuses' names and colours, and the map's
// pieces (background, hash view, the appeals' vector tiles). Loaded after i18n.js and before
// the page's own script, which takes window.portal. Nothing here inserts data as HTML.
(function () {
  "use strict";

  const { t, lang, locale } = window.i18n;

  // --- the API ------------------------------------------------------------------------------

  // A call with the session cookie; the API's messages come in the page's language. The answer
  // is { ok, status, body } with the JSON body ({} when there is none); only a network failure
  // throws.
  async function call(base, url, options = {}) {
    const headers = { ...base, ...(options.headers || {}) };
    const response = await fetch(url, { credentials: "same-origin", ...options, headers });
    const body = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body };
  }

  // The JSON API (Accept: application/json, unless options.headers says otherwise).
  function api(url, options) {
    return call({ Accept: "application/json", "Accept-Language": lang }, url, options);
  }

  // The same without an Accept of our own (the browser's default), as the appeal form asks.
  function request(url, options) {
    return call({ "Accept-Language": lang }, url, options);
  }

  // POSTs `payload` as JSON; `headers` are added (e.g. the CSRF token).
  function postJson(url, payload, headers = {}) {
    return api(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify(payload),
    });
  }

  // Every page of an OGC collection, following the `next` links; onPage(got, numberMatched)
  // after each page. Throws the API's message on an error.
  // A link of the API's answers (absolute, on the service's public address) as a path on this
  // page's own origin: the page talks to nothing else (its CSP says connect-src 'self'), even
  // when opened by another name than the public one.
  function ownPath(href) {
    const url = new URL(href, window.location.href);
    return url.pathname + url.search;
  }

  async function fetchAllFeatures(url, onPage) {
    const features = [];
    while (url) {
      const r = await api(url, { headers: { Accept: "application/geo+json" } });
      if (!r.ok) throw new Error(r.body.detail || `HTTP ${r.status}`);
      features.push(...(r.body.features || []));
      if (onPage) onPage(features.length, r.body.numberMatched);
      const next = (r.body.links || []).find((link) => link.rel === "next");
      url = next ? ownPath(next.href) : null;
    }
    return features;
  }

  // The geocoder's houses and streets for `q` (url: /api/v1/geocode/search, the page's
  // config.searchUrl): { items, error }, the error the API's message or, with nothing found,
  // the page's own; items as the API gives them (type address | street, label, lon, lat,
  // approximate).
  async function searchAddress(url, q) {
    const r = await api(`${url}?q=${encodeURIComponent(q)}`);
    if (!r.ok) return { items: [], error: r.body.detail || `HTTP ${r.status}` };
    const items = r.body.items || [];
    return { items, error: items.length ? "" : t("Адресу не знайдено. Уточніть назву вулиці.") };
  }

  // --- the CSRF token -------------------------------------------------------------------------

  // A cookie session's CSRF token (handed out by sign-in and by /api/v1/me) is kept for the
  // tab in sessionStorage and sent as X-CSRF-Token with every unsafe request.
  const CSRF_KEY = "hromada.csrf";
  const csrf = {
    get: () => sessionStorage.getItem(CSRF_KEY) || "",
    set: (token) => sessionStorage.setItem(CSRF_KEY, token),
    // An answer without a token leaves the one kept.
    keep(token) {
      if (token) sessionStorage.setItem(CSRF_KEY, token);
    },
    clear: () => sessionStorage.removeItem(CSRF_KEY),
  };

  // Sign-out (the cabinets' button): the session ends on the server, then the token here, and
  // the sign-in page opens; a refusal other than "no session" is shown in errorEl.
  async function signOut(config, errorEl) {
    const { ok, status, body } = await api(config.logoutUrl, {
      method: "POST", headers: { "X-CSRF-Token": csrf.get() },
    });
    if (!ok && status !== 401) {
      text(errorEl, body.detail || t("Не вдалося вийти."));
      return;
    }
    csrf.clear();
    window.location.assign(config.loginUrl);
  }

  // --- text -----------------------------------------------------------------------------------

  // An element's text; nothing (null or undefined) shows as `blank`.
  function text(el, value, blank = "—") {
    el.textContent = value == null ? blank : String(value); // data is never inserted as HTML
  }

  function el(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined && content !== null) node.textContent = String(content); // data: never HTML
    return node;
  }

  // The statuses in the page's language, as the server puts them in every page's config
  // (#page-config, #map-config, …; gis/models.py status_name, the API's own names).
  const pageConfig = document.querySelector('script[type="application/json"][id$="-config"]');
  const STATUS_NAMES = (pageConfig && JSON.parse(pageConfig.textContent).statusNames) || {};

  // 1551's result of an appeal in the page's language: the API gives result_en beside the
  // Ukrainian result for its known wordings (gis/models.py RESULTS, gis/locale/en/names.po).
  function resultOf(appeal) {
    return (lang === "en" && appeal.result_en) || appeal.result || null;
  }

  // Why routing chose the executor, in the page's language (the API gives routing_reason_en).
  function routingOf(appeal) {
    return (lang === "en" && appeal.routing_reason_en) || appeal.routing_reason || null;
  }

  // --- the map --------------------------------------------------------------------------------

  // The online background, when one is set (config.basemapUrl); `attribution`, if given,
  // credits it. Without one the map stays on its neutral background (no tile server needed).
  function addBackground(map, config, attribution) {
    if (!config.basemapUrl) return null;
    const options = { maxZoom: 19 };
    if (attribution) options.attribution = attribution;
    return L.tileLayer(config.basemapUrl, options).addTo(map);
  }

  // The credit of OpenStreetMap (the districts and the wards are cut from its boundaries).
  function osmCredit(config) {
    return `<a href="https://www.openstreetmap.org/copyright">${config.attribution}</a>`;
  }

  // The map's home view, the one home of every map's first view: config.home {bbox: [w, s,
  // e, n], centre: [lon, lat]}, computed by the server (api/routers/portal.py `_home`: the
  // signed-in staff member's council, else the installation's territory). A territory that
  // fits the map at the page's own `zoom` is fitted (up to zoom 13: a small hromada is not
  // shown house by house); one up to two levels bigger (a city: Kyiv, Zaporizhzhia) gets the
  // page's zoom at its centre, as a page showed Kyiv before; a bigger one (an oblast) is
  // fitted whole. A map still hidden (size 0) is judged as a 640×480 one. Without a home (no
  // boundary loaded, the database down): Kyiv at `zoom`. Returns the map.
  const FALLBACK_HOME = [50.45, 30.52];
  const HOME_MAX_ZOOM = 13;
  function homeView(map, config, zoom = 10) {
    const home = config && config.home;
    if (!home || !home.bbox) return map.setView(FALLBACK_HOME, zoom, { animate: false });
    const [w, s, e, n] = home.bbox;
    const bounds = L.latLngBounds([s, w], [n, e]);
    const centre = home.centre ? [home.centre[1], home.centre[0]] : bounds.getCenter();
    const box = map.getContainer();
    let fit;
    if (box.clientWidth && box.clientHeight) fit = map.getBoundsZoom(bounds);
    else {
      const span = map.project(bounds.getNorthEast(), 0).subtract(map.project(bounds.getSouthWest(), 0));
      fit = Math.floor(Math.log2(Math.min(640 / Math.abs(span.x), 480 / Math.abs(span.y))));
    }
    if (fit < zoom - 2) return map.setView(bounds.getCenter(), fit, { animate: false });
    return map.setView(centre, Math.max(zoom, Math.min(fit, HOME_MAX_ZOOM)), { animate: false });
  }

  // A view in the hash (#zoom/lat/lon), or null.
  function readHash() {
    const m = /^#(\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(location.hash);
    if (!m) return null;
    const [z, lat, lon] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (z < 0 || z > 19 || Math.abs(lat) > 85 || Math.abs(lon) > 180) return null;
    return { z, lat, lon };
  }

  // 1551's statuses, each its colour (the public map's legend, map.css, uses the same ones).
  const STATUS_COLOURS = {
    registered: "#1f77b4", in_work: "#ff7f0e", on_check: "#8e44ad",
    rework: "#c0392b", closed: "#2e8b57",
  };

  function dominantStatus(properties) {
    let best = "registered";
    for (const status of Object.keys(STATUS_COLOURS)) {
      if ((properties[status] || 0) > (properties[best] || 0)) best = status;
    }
    return best;
  }

  // The appeals' tiles: clusters far out, points coloured by status close in.
  function appealStyle(properties) {
    if (properties.count !== undefined) { // a cluster: its size grows with the count
      const colour = STATUS_COLOURS[dominantStatus(properties)];
      return {
        radius: 5 + 4 * Math.log10(properties.count), weight: 1, color: "#fff",
        fill: true, fillColor: colour, fillOpacity: 0.75,
      };
    }
    return {
      radius: 4, weight: 1, color: "#fff", fill: true,
      fillColor: STATUS_COLOURS[properties.status] || "#555", fillOpacity: 0.9,
    };
  }

  // VectorGrid 1.3's canvas tiles find the symbol under the mouse as if the tile were drawn at
  // its own zoom (wrong at the maps' fractional zooms, zoomSnap 0.25) and stop a hit with
  // L.DomEvent.fakeStop, which Leaflet 1.8 dropped: the point is read from where the canvas is
  // on the screen instead, and a click on no symbol goes on to the map, as Leaflet's own
  // canvas does.
  if (window.L && L.Canvas && L.Canvas.Tile) {
    const pointInTile = (renderer, e) => {
      const box = renderer._container.getBoundingClientRect();
      return L.point((e.clientX - box.left) * renderer._size.x / box.width,
        (e.clientY - box.top) * renderer._size.y / box.height);
    };
    L.Canvas.Tile.include({
      _onClick(e) {
        if (!this._map) return;
        const point = pointInTile(this, e);
        let hit = null;
        for (const layer of Object.values(this._layers)) {
          if (layer.options.interactive && layer._containsPoint(point)
            && !(e.type === "click" && this._map._draggableMoved(layer))) hit = layer;
        }
        this._fireEvent(hit ? [hit] : false, e);
      },
      _onMouseMove(e) {
        if (!this._map || this._map.dragging.moving() || this._map._animatingZoom) return;
        this._handleMouseHover(e, pointInTile(this, e));
      },
    });
  }

  // The appeals' vector tiles at `url`, in the map's "appeals" pane (the page makes it): SVG
  // paths, or with `canvas` one canvas per tile — the public map's, which draws the densest
  // views of millions of appeals several times faster so (bench/portal_at_scale.py).
  function appealTiles(url, { canvas = false } = {}) {
    return L.vectorGrid.protobuf(url, {
      rendererFactory: canvas ? L.canvas.tile : L.svg.tile,
      vectorTileLayerStyles: { appeals: appealStyle },
      interactive: true,
      maxNativeZoom: 18,
      pane: "appeals",
    });
  }

  // VectorGrid's point symbols are CircleMarkers that never learn their LatLng, while Leaflet
  // 1.9 asks every small marker for it on each mouse event: derive it from the symbol's place
  // in its tile (tile coordinates × tile size + the point's pixel offset in the tile).
  function fixVectorGridLatLng(map) {
    const circleLatLng = L.CircleMarker.prototype.getLatLng;
    L.CircleMarker.include({
      getLatLng() {
        const tile = this._renderer && this._renderer.getCoord && this._renderer.getCoord();
        if (this._latlng || !this._point || !tile) return circleLatLng.call(this);
        const size = L.point(256, 256);
        return map.unproject(L.point(tile.x, tile.y).scaleBy(size).add(this._point), tile.z);
      },
    });
  }

  // --- the staff desks' appeals (curator.js, manager.js) ---------------------------------------

  // A URL template of the page's config ("/api/v1/appeals/{number}") with its {names} filled,
  // each value encoded.
  function fillUrl(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(values[k]));
  }

  // Who is signed in (GET `url`, /api/v1/me), asked once per page however many of its scripts
  // want to know (the administrator's page has four sections).
  const signedIn = new Map();
  function me(url) {
    if (!signedIn.has(url)) signedIn.set(url, api(url));
    return signedIn.get(url);
  }

  // A signed-in page's JSON call (PATCH, DELETE…) with its CSRF token; `payload`, when given,
  // is the JSON body.
  function sendJson(method, url, payload) {
    return api(url, {
      method,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf.get() },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
  }

  // An administrator's section's list: GET `url`, row(item) of each into #PREFIX-table's body,
  // #PREFIX-none shown when there is none, a refusal (fail(body)) in #PREFIX-error.
  async function loadSectionList(prefix, url, row, fail) {
    const r = await api(url);
    if (!r.ok) {
      text(document.getElementById(`${prefix}-error`), fail(r.body));
      return;
    }
    document.getElementById(`${prefix}-table`).tBodies[0].replaceChildren(...r.body.items.map(row));
    document.getElementById(`${prefix}-none`).hidden = r.body.items.length > 0;
  }

  // A moment (ISO) as its day in Kyiv, in the page's language; "—" for none.
  function day(iso) {
    if (!iso) return "—";
    return new Date(iso).toLocaleDateString(locale, { timeZone: "Europe/Kyiv" });
  }

  // A moment (a Date or ISO; now by default) as its day in Kyiv, YYYY-MM-DD: a date field's value,
  // and the day the server's reports and permits count by, whatever the browser's own zone.
  function kyivDay(moment) {
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en", {
      timeZone: "Europe/Kyiv", year: "numeric", month: "2-digit", day: "2-digit",
    }).formatToParts(moment === undefined ? new Date() : new Date(moment)).map((p) => [p.type, p.value]));
    return `${parts.year}-${parts.month}-${parts.day}`;
  }

  // An appeal's category in the page's language, after its kind (unless the name starts with it).
  function categoryOf(r) {
    const name = (lang === "en" && r.category_en) || r.category;
    const kind = (lang === "en" && r.kind_name_en) || r.kind_name;
    return kind && !String(name).startsWith(kind) ? `${kind} — ${name}` : name;
  }

  // A row of an appeal list: its number, a button calling onOpen(number), then `cells`, each a
  // text or [text, class].
  function appealRow(r, cells, onOpen) {
    const row = document.createElement("tr");
    row.dataset.number = r.number;
    const first = el("th");
    first.scope = "row";
    const open = el("button", "link", r.number);
    open.type = "button";
    open.addEventListener("click", () => onOpen(r.number));
    first.appendChild(open);
    row.appendChild(first);
    for (const cell of cells) {
      const [value, className] = Array.isArray(cell) ? cell : [cell, ""];
      row.appendChild(el("td", className, value));
    }
    return row;
  }

  // A desk's failure (fail = deskFailure(root, errorEl)): the page's state "error" and the message.
  function deskFailure(root, errorEl) {
    return (exc) => {
      root.dataset.state = "error";
      text(errorEl, t("Помилка: {message}", { message: exc.message }));
    };
  }

  // A desk's user (/api/v1/me, config.meUrl): the CSRF token kept, the name in #who, the role in
  // root's data-role. Null when the visitor went to sign in, or is not a `role` (then `wrongRole`
  // is said in errorEl and statusEl is emptied).
  async function deskUser(config, root, role, { errorEl, statusEl, wrongRole }) {
    const me = await api(config.meUrl);
    if (me.status === 401) { window.location.assign(config.loginUrl); return null; }
    if (!me.ok) throw new Error(me.body.detail || `HTTP ${me.status}`);
    csrf.keep(me.body.csrf_token);
    root.dataset.role = me.body.role;
    text(document.getElementById("who"), me.body.full_name || me.body.email);
    if (me.body.role !== role) {
      root.dataset.state = "error";
      text(statusEl, "");
      text(errorEl, wrongRole);
      return null;
    }
    return me.body;
  }

  // The executor's answer photos of a public card (kind "answer": public by 1551's rules) in
  // `list` (a <ul>), each a link opening the photo in a new tab; the list is hidden when there
  // are none. Returns the photos shown.
  function answerPhotos(list, card) {
    const photos = ((card && card.photos) || []).filter((p) => p.kind === "answer");
    list.replaceChildren(...photos.map((photo, i) => {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = photo.url;
      link.target = "_blank";
      link.rel = "noopener";
      const img = document.createElement("img");
      img.src = photo.url;
      img.alt = `${t("Фото відповіді")} ${i + 1}`;
      link.append(img);
      li.append(link);
      return li;
    }));
    list.hidden = photos.length === 0;
    return photos;
  }

  window.portal = {
    api, request, postJson, fetchAllFeatures, ownPath, csrf, signOut, text, el, STATUS_NAMES, resultOf, routingOf,
    addBackground, osmCredit, homeView, readHash, STATUS_COLOURS, appealStyle, appealTiles,
    fixVectorGridLatLng, fillUrl, day, kyivDay, me, sendJson, loadSectionList, categoryOf, appealRow, deskFailure, deskUser, searchAddress,
    answerPhotos,
  };
})();
