// PaySystem player: play sessions, progress reports, resume and ad breaks (SPEC §4–§5).
//
// The server measures watch time; this script only says where playback is. It opens a play
// session when the viewer presses play, reports the position at least every 10 s while
// playing and on play / pause / seek / end, and plays the ad of every slot the playback
// reaches or skips past, once per session. Requests go out one after another, in order, so
// the server always sees the position before the ad break that depends on it.
(() => {
  "use strict";

  const root = document.querySelector("[data-player]");
  if (!root) return;
  const config = JSON.parse(document.getElementById("player-config").textContent);
  const content = root.querySelector("video.content");
  const breakBox = root.querySelector(".ad-break");
  const adVideo = breakBox.querySelector("video.ad");
  const adCount = breakBox.querySelector(".ad-count");
  const statusLine = root.querySelector(".player-status");
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  // A jump larger than this between two reports was a seek the browser did not announce.
  const SEEK_THRESHOLD_MS = 1000;

  let sessionId = null;
  let played = new Set(); // slot indexes whose ad has played in this session
  let lastMs = 0; // last position seen during normal playback
  let furthestMs = 0;
  let busy = false; // opening a session or inside an ad break
  let timer = null;
  let queue = Promise.resolve();
  let resumed = config.resumeMs === 0;

  const toMs = (seconds) => Math.max(0, Math.min(config.durationMs, Math.round(seconds * 1000)));
  const clock = (ms) => {
    const s = Math.floor(ms / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  };
  const sessionUrl = () => `${config.sessionsUrl}/${sessionId}`;

  function setState(state, message) {
    root.dataset.state = state;
    if (message !== undefined) statusLine.textContent = message;
  }

  // One request at a time, in the order they were asked for; never rejects. A keepalive
  // request (the page is going away) starts at once: there is no later for it.
  function send(method, url, body, options = {}) {
    const request = () =>
      fetch(url, {
        method,
        credentials: "same-origin",
        keepalive: Boolean(options.keepalive),
        headers: {
          Accept: "application/json",
          ...(body === undefined ? {} : { "Content-Type": "application/json", "X-CSRFToken": csrfToken }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
        .then(async (response) => ({ ok: response.ok, status: response.status, data: await response.json().catch(() => ({})) }))
        .catch((error) => ({ ok: false, status: 0, data: { message: String(error) } }));
    if (options.keepalive) return request();
    queue = queue.then(request);
    return queue;
  }

  function report(state, { seek = false, keepalive = false } = {}) {
    if (sessionId === null) return Promise.resolve(null);
    const now = toMs(content.currentTime);
    const body = { position_ms: lastMs, state };
    if (now !== lastMs && (seek || Math.abs(now - lastMs) > SEEK_THRESHOLD_MS)) body.seek_to_ms = now;
    else body.position_ms = now;
    lastMs = now;
    furthestMs = Math.max(furthestMs, now);
    const id = sessionId;
    return send("POST", `${config.sessionsUrl}/${id}/progress`, body, { keepalive }).then((result) => {
      root.dataset.reports = String(Number(root.dataset.reports || 0) + 1);
      if (result.ok && result.data.ended && sessionId === id) closeSession();
      if (!result.ok && (result.status === 404 || result.status === 409) && sessionId === id) {
        // The session is gone or over: the next play opens a new one.
        closeSession();
        setState("idle", result.data.message || "The play session ended.");
      }
      return result;
    });
  }

  function closeSession() {
    sessionId = null;
    stopTimer();
    root.dataset.session = "";
  }

  function startTimer() {
    stopTimer();
    timer = window.setInterval(() => report("playing"), config.reportEveryMs);
  }

  function stopTimer() {
    if (timer !== null) window.clearInterval(timer);
    timer = null;
  }

  const dueSlots = () =>
    config.slots.map((position, index) => [position, index])
      .filter(([position, index]) => position * 1000 <= furthestMs && !played.has(index))
      .map(([, index]) => index);

  function playAd(ad, slot, number, total) {
    return new Promise((resolve) => {
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        window.clearTimeout(guard);
        adVideo.removeEventListener("ended", finish);
        adVideo.removeEventListener("error", finish);
        adVideo.removeEventListener("playing", started);
        adVideo.pause();
        resolve();
      };
      // The ad view counts from the moment the ad starts playing (§5).
      const started = () => {
        adVideo.removeEventListener("playing", started);
        send("POST", `${sessionUrl()}/ad-views`, { slot_index: slot, ad_id: ad.id }).then((result) => {
          if (result.ok) root.dataset.adsPlayed = String(Number(root.dataset.adsPlayed) + 1);
        });
      };
      // A broken ad must not keep the viewer from the video forever.
      const guard = window.setTimeout(finish, (ad.duration_seconds + 15) * 1000);
      adVideo.addEventListener("ended", finish);
      adVideo.addEventListener("error", finish);
      adVideo.addEventListener("playing", started);
      adCount.textContent = total > 1 ? `${number} of ${total}` : "";
      adVideo.src = ad.media_url;
      adVideo.play().catch(() => {
        // Autoplay with sound refused: muted playback is always allowed.
        adVideo.muted = true;
        adVideo.play().catch(finish);
      });
    });
  }

  async function adBreak() {
    const due = dueSlots();
    if (due.length === 0) return;
    busy = true;
    content.pause();
    await report("paused");
    breakBox.hidden = false;
    setState("ad", "Ad break · the video continues after it");
    for (const [i, slot] of due.entries()) {
      if (sessionId === null) break;
      played.add(slot);
      const pick = await send("GET", `${sessionUrl()}/slots/${slot}/ad`);
      if (!pick.ok) continue; // no active ad, or already shown: nothing to play
      await playAd(pick.data.ad, slot, i + 1, due.length);
    }
    breakBox.hidden = true;
    adVideo.removeAttribute("src");
    busy = false;
    setState("playing", "");
    content.play().catch(() => setState("paused", "Press play to continue."));
  }

  async function openSession() {
    busy = true;
    setState("opening", "Starting…");
    let start = toMs(content.currentTime);
    if (start >= config.durationMs - 1000) {
      // Play after the end starts over (§4: the next visit after END starts from 0).
      start = 0;
      content.currentTime = 0;
    }
    const result = await send("POST", config.sessionsUrl, { start_position_ms: start });
    if (!result.ok) {
      busy = false;
      setState("idle", result.data.message || "The video could not be started; try again.");
      return;
    }
    sessionId = result.data.session_id;
    root.dataset.session = String(sessionId);
    played = new Set();
    lastMs = start;
    furthestMs = start;
    busy = false;
    if (dueSlots().length > 0) {
      await adBreak();
    } else {
      setState("playing", "");
      content.play().catch(() => setState("paused", "Press play to continue."));
    }
  }

  function resume() {
    if (resumed) return;
    resumed = true;
    content.currentTime = config.resumeMs / 1000;
    lastMs = config.resumeMs;
  }
  // A cached video may have its metadata before this script runs.
  if (content.readyState >= HTMLMediaElement.HAVE_METADATA) resume();
  else content.addEventListener("loadedmetadata", resume);

  content.addEventListener("play", () => {
    if (busy) {
      content.pause();
      return;
    }
    if (sessionId === null) {
      content.pause();
      openSession();
      return;
    }
    setState("playing");
    report("playing");
    startTimer();
  });

  content.addEventListener("pause", () => {
    stopTimer();
    if (busy || sessionId === null || content.ended) return;
    setState("paused");
    report("paused");
  });

  content.addEventListener("seeking", () => {
    if (busy || sessionId === null) return;
    report(content.paused ? "paused" : "playing", { seek: true });
    if (dueSlots().length > 0) adBreak();
  });

  content.addEventListener("timeupdate", () => {
    if (busy || sessionId === null || content.seeking || content.paused) return;
    lastMs = toMs(content.currentTime);
    furthestMs = Math.max(furthestMs, lastMs);
    if (dueSlots().length > 0) adBreak();
  });

  content.addEventListener("ended", () => {
    if (sessionId === null) return;
    stopTimer();
    report("paused").then(() => setState("ended", "Finished. Play again to start from the beginning."));
  });

  // Leaving the page while playing: keep the resume position (keepalive outlives the page).
  window.addEventListener("pagehide", () => {
    if (sessionId !== null && !content.paused && !busy) report("paused", { keepalive: true });
  });
})();
