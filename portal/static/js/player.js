// PaySystem player: play sessions, progress reports, resume and ad breaks (SPEC §4–§5).
//
// The server measures watch time; this script only says where playback is. It opens a play
// session when the viewer presses play, reports the position at least every 10 s while
// playing and on play / pause / seek / end, and plays one ad break when playback reaches a
// slot or jumps past slots (§5: one break per jump, for the last slot passed; the slots
// jumped over are spent). Requests go out one after another, in order, so the server always
// sees the position before the ad break that depends on it.
//
// Content and ad share one container (.stage) with its own controls: that container is what
// goes full screen, so an ad always shows on top of the content, with its number, its
// remaining time, pause, mute and (for ads longer than 15 s, after 5 s) Skip.
(() => {
  "use strict";

  const root = document.querySelector("[data-player]");
  if (!root) return;
  const config = JSON.parse(document.getElementById("player-config").textContent);
  const stage = root.querySelector(".stage");
  const content = root.querySelector("video.content");
  const breakBox = root.querySelector(".ad-break");
  const adVideo = breakBox.querySelector("video.ad");
  const adNumber = breakBox.querySelector(".ad-number");
  const adRemaining = breakBox.querySelector(".ad-remaining");
  const skipButton = breakBox.querySelector(".ad-skip");
  const controls = root.querySelector(".controls");
  const playButton = controls.querySelector(".ctl-play");
  const seekBar = controls.querySelector(".ctl-seek");
  const slotMarks = Array.from(controls.querySelectorAll(".slot-mark")); // in slot order
  const timeLabel = controls.querySelector(".ctl-time");
  const muteButton = controls.querySelector(".ctl-mute");
  const volumeBar = controls.querySelector(".ctl-volume");
  const fullscreenButton = controls.querySelector(".ctl-fullscreen");
  const statusLine = root.querySelector(".player-status");
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  // A jump larger than this between two reports was a seek the browser did not announce.
  const SEEK_THRESHOLD_MS = 1000;
  // Arrow keys move this far.
  const ARROW_SEEK_SECONDS = 5;
  // An ad that has not started (or stalls) this long is given up, so the video goes on.
  const AD_STALL_MS = 15000;

  let sessionId = null;
  let played = new Set(); // slot indexes whose break has been taken in this session
  let lastMs = 0; // last position seen during normal playback
  let furthestMs = 0;
  let busy = false; // opening a session or inside an ad break
  let inAd = false; // the ad video is the one the controls drive
  let timer = null;
  let queue = Promise.resolve();
  let resumed = config.resumeMs === 0;
  let dragging = false;

  const toMs = (seconds) => Math.max(0, Math.min(config.durationMs, Math.round(seconds * 1000)));
  const clock = (ms) => {
    const s = Math.floor(ms / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  };
  const sessionUrl = () => `${config.sessionsUrl}/${sessionId}`;
  const bump = (name) => { root.dataset[name] = String(Number(root.dataset[name] || 0) + 1); };

  function setState(state, message) {
    root.dataset.state = state;
    if (message !== undefined) statusLine.textContent = message;
    renderPlayButton();
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
      bump("reports");
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

  // §5, as the server decides it: the last slot reached or jumped past, unless a slot at or
  // after it has had its break already. At most one.
  function dueSlot() {
    let last = -1;
    config.slots.forEach((position, index) => {
      if (position * 1000 <= furthestMs) last = index;
    });
    return last > latestPlayed() ? last : null;
  }

  function latestPlayed() {
    return played.size ? Math.max(...played) : -1;
  }

  // The seek bar keeps every ad marker (issue 21, item 14): a slot whose break has been taken,
  // or that a jump spent before it, stays marked, drawn as played instead of disappearing
  // under the played part of the bar.
  function renderMarks() {
    const latest = latestPlayed();
    slotMarks.forEach((mark, index) => {
      mark.classList.toggle("played", index <= latest);
    });
  }

  // The ad view counts from the moment the ad really starts playing where the viewer can see
  // it (§5): a page in a background tab waits until it is visible again.
  function whenVisible() {
    if (document.visibilityState === "visible") return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (document.visibilityState !== "visible") return;
        document.removeEventListener("visibilitychange", check);
        resolve();
      };
      document.addEventListener("visibilitychange", check);
    });
  }

  function playAd(ad, slot) {
    return new Promise((resolve) => {
      let finished = false;
      let recorded = null; // the ad-view request, once sent
      let stall = null;
      const skipAfter = ad.skippable_after_seconds;
      const armStall = () => {
        window.clearTimeout(stall);
        stall = window.setTimeout(finish, AD_STALL_MS);
      };
      const tick = () => {
        const left = Math.max(0, ad.duration_seconds - adVideo.currentTime);
        adRemaining.textContent = clock(Math.ceil(left) * 1000);
        root.dataset.adRemaining = String(Math.ceil(left));
        if (skipAfter !== null && skipAfter !== undefined && adVideo.currentTime >= skipAfter && skipButton.hidden) {
          skipButton.hidden = false;
        }
      };
      function finish() {
        if (finished) return;
        finished = true;
        window.clearTimeout(stall);
        adVideo.removeEventListener("ended", finish);
        adVideo.removeEventListener("error", finish);
        adVideo.removeEventListener("playing", started);
        adVideo.removeEventListener("waiting", armStall);
        adVideo.removeEventListener("timeupdate", tick);
        skipButton.removeEventListener("click", skip);
        skipButton.hidden = true;
        adVideo.pause();
        resolve(recorded);
      }
      function started() {
        window.clearTimeout(stall);
        if (recorded !== null) return;
        if (document.visibilityState !== "visible") {
          adVideo.pause();
          whenVisible().then(() => adVideo.play().catch(() => setState("ad", "Press play to watch the ad.")));
          return;
        }
        recorded = send("POST", `${sessionUrl()}/ad-views`, { slot_index: slot, ad_id: ad.id }).then((result) => {
          if (result.ok) bump("adsPlayed");
          return result;
        });
      }
      async function skip() {
        skipButton.disabled = true;
        const result = await send("POST", `${sessionUrl()}/slots/${slot}/skip`, {});
        if (result.ok) bump("adsSkipped");
        skipButton.disabled = false;
        finish();
      }
      armStall();
      adVideo.addEventListener("ended", finish);
      adVideo.addEventListener("error", finish);
      adVideo.addEventListener("playing", started);
      adVideo.addEventListener("waiting", armStall);
      adVideo.addEventListener("timeupdate", tick);
      skipButton.addEventListener("click", skip);
      adNumber.textContent = `${slot + 1} of ${config.slots.length}`;
      adRemaining.textContent = clock(ad.duration_seconds * 1000);
      root.dataset.adRemaining = String(ad.duration_seconds);
      adVideo.muted = content.muted;
      adVideo.volume = content.volume;
      adVideo.src = ad.media_url;
      whenVisible().then(() => adVideo.play().catch(() => {
        // Autoplay with sound refused: muted playback is always allowed.
        adVideo.muted = true;
        renderMute();
        adVideo.play().catch(finish);
      }));
    });
  }

  async function adBreak() {
    const slot = dueSlot();
    if (slot === null) return;
    busy = true;
    content.pause();
    await report("paused");
    played.add(slot);
    renderMarks();
    const pick = await send("GET", `${sessionUrl()}/slots/${slot}/ad`);
    if (pick.ok && sessionId !== null) {
      inAd = true;
      breakBox.hidden = false;
      setState("ad", "Ad break · the video continues after it");
      await playAd(pick.data.ad, slot);
      inAd = false;
      breakBox.hidden = true;
      adVideo.removeAttribute("src");
      adVideo.load();
    }
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
    renderMarks();
    lastMs = start;
    furthestMs = start;
    busy = false;
    if (dueSlot() !== null) {
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
    renderTime();
  }
  // A cached video may have its metadata before this script runs.
  if (content.readyState >= HTMLMediaElement.HAVE_METADATA) resume();
  else content.addEventListener("loadedmetadata", resume);

  content.addEventListener("play", () => {
    renderPlayButton();
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
    renderPlayButton();
    stopTimer();
    if (busy || sessionId === null || content.ended) return;
    setState("paused");
    report("paused");
  });

  content.addEventListener("seeking", () => {
    renderTime();
    if (busy || sessionId === null) return;
    report(content.paused ? "paused" : "playing", { seek: true });
    if (dueSlot() !== null) adBreak();
  });

  content.addEventListener("timeupdate", () => {
    renderTime();
    if (busy || sessionId === null || content.seeking || content.paused) return;
    lastMs = toMs(content.currentTime);
    furthestMs = Math.max(furthestMs, lastMs);
    if (dueSlot() !== null) adBreak();
  });

  content.addEventListener("ended", () => {
    renderPlayButton();
    if (sessionId === null) return;
    stopTimer();
    report("paused").then(() => setState("ended", "Finished. Play again to start from the beginning."));
  });

  // Leaving the page while playing: keep the resume position (keepalive outlives the page).
  window.addEventListener("pagehide", () => {
    if (sessionId !== null && !content.paused && !busy) report("paused", { keepalive: true });
  });

  // --- Controls: they drive the ad during a break and the content otherwise. ---------------

  const active = () => (inAd ? adVideo : content);

  function togglePlay() {
    const media = active();
    if (media.paused) media.play().catch(() => {});
    else media.pause();
  }

  function renderPlayButton() {
    const paused = active().paused;
    playButton.setAttribute("aria-label", paused ? "Play" : "Pause");
    playButton.firstElementChild.textContent = paused ? "▶" : "❚❚";
  }

  function renderTime() {
    const ms = toMs(content.currentTime);
    if (!dragging) seekBar.value = String(ms);
    const shown = dragging ? Number(seekBar.value) : ms;
    timeLabel.textContent = `${clock(shown)} / ${clock(config.durationMs)}`;
    seekBar.setAttribute("aria-valuetext", `${clock(shown)} of ${clock(config.durationMs)}`);
  }

  function renderMute() {
    const muted = content.muted || content.volume === 0;
    muteButton.setAttribute("aria-label", muted ? "Unmute" : "Mute");
    muteButton.setAttribute("aria-pressed", String(muted));
  }

  function setMuted(muted) {
    content.muted = muted;
    adVideo.muted = muted;
    renderMute();
  }

  function seekBy(seconds) {
    if (inAd || busy) return; // the ad cannot be seeked; content waits for the break to end
    content.currentTime = Math.max(0, Math.min(config.durationMs / 1000, content.currentTime + seconds));
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else if (stage.requestFullscreen) stage.requestFullscreen().catch(() => {});
  }

  // The native controls would act on the content only (and go full screen without the ad).
  content.controls = false;
  controls.hidden = false;
  for (const mark of slotMarks) {
    mark.style.left = `${(Number(mark.dataset.position) * 1000 * 100) / config.durationMs}%`;
  }
  renderTime();
  renderMute();

  playButton.addEventListener("click", togglePlay);
  content.addEventListener("click", togglePlay);
  adVideo.addEventListener("click", togglePlay);
  stage.addEventListener("dblclick", (event) => {
    if (!controls.contains(event.target)) toggleFullscreen();
  });
  adVideo.addEventListener("play", renderPlayButton);
  adVideo.addEventListener("pause", renderPlayButton);
  muteButton.addEventListener("click", () => setMuted(!(content.muted || content.volume === 0)));
  volumeBar.addEventListener("input", () => {
    content.volume = Number(volumeBar.value);
    adVideo.volume = content.volume;
    setMuted(content.volume === 0);
  });
  seekBar.addEventListener("input", () => {
    dragging = true;
    renderTime();
  });
  seekBar.addEventListener("change", () => {
    dragging = false;
    if (inAd || busy) {
      renderTime();
      return;
    }
    content.currentTime = Number(seekBar.value) / 1000;
  });
  fullscreenButton.addEventListener("click", toggleFullscreen);
  document.addEventListener("fullscreenchange", () => {
    const on = document.fullscreenElement === stage;
    root.dataset.fullscreen = String(on);
    fullscreenButton.setAttribute("aria-label", on ? "Exit full screen" : "Full screen");
    fullscreenButton.setAttribute("aria-pressed", String(on));
  });

  // Keyboard, as on the large platforms: Space / k pause, f full screen, m mute, arrows seek.
  // Keys typed into a form field are left alone; a focused button keeps Space and Enter.
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) {
      if (!(target === seekBar || target === volumeBar) || event.key.startsWith("Arrow")) return;
    }
    if (target instanceof HTMLButtonElement && (event.key === " " || event.key === "Enter")) return;
    const actions = {
      " ": togglePlay,
      k: togglePlay,
      K: togglePlay,
      f: toggleFullscreen,
      F: toggleFullscreen,
      m: () => setMuted(!content.muted),
      M: () => setMuted(!content.muted),
      ArrowLeft: () => seekBy(-ARROW_SEEK_SECONDS),
      ArrowRight: () => seekBy(ARROW_SEEK_SECONDS),
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault(); // Space must not scroll the page
    action();
  });
})();
