// The 3D viewer of one intraoral scan set (templates/scans/viewer.html): orbit and zoom, one
// checkbox per arch, point-to-point measurement in mm and a reset of the view.
//
// A module loaded as a file (the Content-Security-Policy allows no inline script, so no import
// map either): three.js is imported by URL, and the server rewrites the addons' bare `'three'`
// import to the same URL (ortholens/web/vendor.py), so the page holds one copy of three.js.
//
// The page gives each arch's web mesh (binary PLY in mm, no normals, vertex colours when the
// scanner recorded them) as a signed URL in `data-mesh-url`. The arches of a set share the
// scanner's coordinate frame, so they are placed as they are and the camera frames them together.
//
// State for people and tests lives on the root element: data-state (loading | ready | error),
// data-meshes, data-visible-meshes, data-visible-arches, data-triangles, data-measured-mm and
// data-view (the last preset view: front, right, left, upper, lower).
//
// Preset views assume the frame the demo's and most scanners' sets share: occlusal plane in x-y,
// +z from the lower teeth towards the upper, incisors towards +y, the patient's right at +x.
// Keyboard (the canvas takes focus): arrows rotate, + and - zoom, 1-5 the presets, 0 resets.
//
// While arches of the set are still being prepared, a progress panel ([data-scan-progress])
// polls GET /api/images/{id} for each and reloads the page once every arch is ready or failed.
import * as THREE from "/static/vendor/three/three.module.js";
import { OrbitControls } from "/static/vendor/three/addons/controls/OrbitControls.js";
import { PLYLoader } from "/static/vendor/three/addons/loaders/PLYLoader.js";

const BACKGROUND = 0xe9eef3;
const TOOTH = 0xf1eadc; // a neutral enamel shade for scans without colour
const BITE = 0xc9d6e3; // the bite registration, told apart from the arches it overlaps
const MEASURE = 0xd9480f;
const CLICK_SLOP_PX = 4; // a press that moves further than this is an orbit, not a pick

const ROTATE_STEP = THREE.MathUtils.degToRad(10);
const ZOOM_STEP = 1.15;
const UP = new THREE.Vector3(0, 0, 1); // the orbit's axis: occlusal plane horizontal
const POLE = 0.001; // occlusal views sit this far off the pole, so "up" on screen stays defined
// Preset -> [direction from the target to the camera, arches shown (null: as ticked)]. In the
// occlusal views the incisors are at the top of the screen.
const PRESETS = {
  front: [new THREE.Vector3(0, 1, 0), null],
  right: [new THREE.Vector3(1, 0, 0), null],
  left: [new THREE.Vector3(-1, 0, 0), null],
  upper: [new THREE.Vector3(0, POLE, -1), ["upper", "unassigned"]],
  lower: [new THREE.Vector3(0, -POLE, 1), ["lower", "unassigned"]],
};
const PRESET_KEYS = { 1: "front", 2: "right", 3: "left", 4: "upper", 5: "lower" };

const root = document.querySelector("[data-viewer]");
if (root) start(root);
const progress = document.querySelector("[data-scan-progress]");
if (progress) follow(progress);

/** Poll each arch still being prepared; reload once none is left, so the page gets its links. */
function follow(panel) {
  const ids = (panel.dataset.pendingIds || "").split(" ").filter(Boolean);
  const total = Number(panel.dataset.total) || ids.length;
  const bar = panel.querySelector("[data-progress-bar]");
  const message = panel.querySelector("[data-progress-message]");
  const settled = new Set();
  let rounds = 0;

  function show() {
    const ready = total - ids.length + settled.size;
    bar.max = total;
    bar.value = ready;
    panel.dataset.ready = String(ready);
    message.textContent = `Preparing the 3D view: ${ready} of ${total} arch${total === 1 ? "" : "es"} ready…`;
  }

  async function poll() {
    rounds += 1;
    for (const id of ids) {
      if (settled.has(id)) continue;
      try {
        const response = await fetch(`/api/images/${id}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!response.ok) continue;
        const image = await response.json();
        if (image.status === "READY" || image.status === "FAILED") settled.add(id);
      } catch {
        // offline for a moment: the next round asks again
      }
    }
    show();
    if (settled.size === ids.length) {
      panel.dataset.state = "done";
      message.textContent = "The 3D view is ready. Opening it…";
      window.location.reload();
    } else if (rounds < 400) {
      window.setTimeout(poll, 1500);
    } else {
      message.textContent = "Still preparing. Reload the page later to see the 3D view.";
    }
  }

  show();
  poll();
}

function start(root) {
  const canvas = root.querySelector("[data-canvas]");
  const status = root.querySelector("[data-status]");
  const toggles = Array.from(root.querySelectorAll("input[data-mesh-toggle][data-mesh-url]"));
  const distanceOut = root.querySelector("[data-distance]");
  const hint = root.querySelector("[data-measure-hint]");
  const clearButton = root.querySelector("[data-clear-measure]");
  const resetButton = root.querySelector("[data-reset-view]");
  const presetButtons = Array.from(root.querySelectorAll("[data-preset]"));

  function fail(message) {
    root.dataset.state = "error";
    status.textContent = message;
    status.hidden = false;
  }

  let renderer;
  try {
    renderer = new THREE.WebGLRenderer({ canvas, antialias: true });
  } catch {
    fail("This browser cannot show 3D views (WebGL is not available).");
    return;
  }
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.setClearColor(BACKGROUND, 1);

  const scene = new THREE.Scene();
  const camera = new THREE.PerspectiveCamera(35, 1, 0.1, 10000);
  camera.up.copy(UP); // before the controls: OrbitControls orbits around the camera's up
  // A light that moves with the camera keeps the side you look at lit from any angle.
  const headlight = new THREE.DirectionalLight(0xffffff, 2.0);
  headlight.position.set(0.4, 0.6, 1);
  camera.add(headlight);
  scene.add(camera);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x7d8590, 1.1));

  const controls = new OrbitControls(camera, canvas);
  controls.enableDamping = false; // render on demand, not in a loop: no inertia to animate
  controls.addEventListener("change", () => requestRender());

  /** arch toggle -> mesh */
  const meshes = new Map();
  const measureGroup = new THREE.Group();
  scene.add(measureGroup);
  let sceneRadius = 1;
  let renderQueued = false;

  function render() {
    renderer.render(scene, camera);
  }

  function requestRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      render();
    });
  }

  function resize() {
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return;
    renderer.setSize(width, height, false);
    camera.aspect = width / height;
    camera.updateProjectionMatrix();
    render();
  }

  function visibleMeshes() {
    return Array.from(meshes.values()).filter((mesh) => mesh.visible);
  }

  function publish() {
    const visible = visibleMeshes();
    root.dataset.meshes = String(meshes.size);
    root.dataset.visibleMeshes = String(visible.length);
    root.dataset.visibleArches = visible.map((mesh) => mesh.userData.arch).join(" ");
    let triangles = 0;
    for (const mesh of meshes.values()) {
      const geometry = mesh.geometry;
      triangles += (geometry.index ? geometry.index.count : geometry.attributes.position.count) / 3;
    }
    root.dataset.triangles = String(triangles);
  }

  /** Frame the visible meshes (all loaded ones if none is visible), seen from `direction`. */
  function frame(direction) {
    const box = new THREE.Box3();
    const shown = visibleMeshes();
    for (const mesh of shown.length ? shown : meshes.values()) box.expandByObject(mesh);
    if (box.isEmpty()) return;
    const sphere = box.getBoundingSphere(new THREE.Sphere());
    sceneRadius = Math.max(sphere.radius, 1);
    const distance = sceneRadius / Math.sin(THREE.MathUtils.degToRad(camera.fov / 2)) * 1.05;
    camera.near = distance / 100;
    camera.far = distance * 10;
    camera.position.copy(sphere.center).add(direction.clone().normalize().multiplyScalar(distance));
    camera.updateProjectionMatrix();
    controls.target.copy(sphere.center);
    controls.minDistance = sceneRadius * 0.05;
    controls.maxDistance = distance * 4;
    controls.update();
    render();
    publishCamera();
  }

  /** The starting view: from the front and a little above, every ticked arch. */
  function resetView() {
    delete root.dataset.view;
    for (const button of presetButtons) button.setAttribute("aria-pressed", "false");
    frame(new THREE.Vector3(0, 1, 0.35));
  }

  /** Show the set from a preset; the occlusal ones show that arch alone (the toggles follow). */
  function preset(name) {
    const [direction, arches] = PRESETS[name];
    if (arches) {
      for (const toggle of toggles) {
        const mesh = meshes.get(toggle);
        if (!mesh) continue;
        toggle.checked = arches.includes(toggle.dataset.arch);
        mesh.visible = toggle.checked;
      }
      publish();
    }
    root.dataset.view = name;
    for (const button of presetButtons) button.setAttribute("aria-pressed", String(button.dataset.preset === name));
    frame(direction);
  }

  /** Turn the camera around the target as a drag would: `yaw` around +z, `pitch` towards a pole. */
  function rotate(yaw, pitch) {
    const offset = camera.position.clone().sub(controls.target);
    // Spherical coordinates around +z: theta in the occlusal plane, phi from +z.
    const radius = offset.length();
    const theta = Math.atan2(offset.y, offset.x) + yaw;
    let phi = Math.acos(THREE.MathUtils.clamp(offset.z / radius, -1, 1)) + pitch;
    phi = THREE.MathUtils.clamp(phi, POLE, Math.PI - POLE);
    offset.set(
      radius * Math.sin(phi) * Math.cos(theta),
      radius * Math.sin(phi) * Math.sin(theta),
      radius * Math.cos(phi),
    );
    camera.position.copy(controls.target).add(offset);
    controls.update();
    render();
    publishCamera();
  }

  /** Where the camera looks from (a unit vector from the target, "x y z"), for people and tests. */
  function publishCamera() {
    const direction = camera.position.clone().sub(controls.target).normalize();
    const rounded = direction.toArray().map((v) => (Math.abs(v) < 0.0005 ? 0 : v).toFixed(3));
    root.dataset.cameraDirection = rounded.join(" ");
  }

  function zoom(factor) {
    const offset = camera.position.clone().sub(controls.target);
    const length = THREE.MathUtils.clamp(offset.length() * factor, controls.minDistance, controls.maxDistance);
    camera.position.copy(controls.target).add(offset.setLength(length));
    controls.update();
    render();
  }

  canvas.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key;
    if (key === "ArrowLeft") rotate(-ROTATE_STEP, 0);
    else if (key === "ArrowRight") rotate(ROTATE_STEP, 0);
    else if (key === "ArrowUp") rotate(0, -ROTATE_STEP);
    else if (key === "ArrowDown") rotate(0, ROTATE_STEP);
    else if (key === "+" || key === "=") zoom(1 / ZOOM_STEP);
    else if (key === "-" || key === "_") zoom(ZOOM_STEP);
    else if (PRESET_KEYS[key]) preset(PRESET_KEYS[key]);
    else if (key === "0") resetView();
    else return;
    event.preventDefault(); // arrows and +/- would scroll or zoom the page
  });
  for (const button of presetButtons) {
    button.addEventListener("click", () => preset(button.dataset.preset));
  }

  function material(geometry, arch) {
    const hasColour = Boolean(geometry.getAttribute("color"));
    return new THREE.MeshStandardMaterial({
      color: hasColour ? 0xffffff : arch === "bite" ? BITE : TOOTH,
      vertexColors: hasColour,
      roughness: 0.55,
      metalness: 0,
      // Scans are open surfaces: their inside shows through the gaps and must not vanish.
      side: THREE.DoubleSide,
    });
  }

  // ---- Measuring ----------------------------------------------------------------------------

  const points = [];

  function clearMeasurement() {
    points.length = 0;
    for (const child of [...measureGroup.children]) {
      measureGroup.remove(child);
      child.geometry.dispose();
      child.material.dispose();
    }
    distanceOut.textContent = "";
    delete root.dataset.measuredMm;
    hint.textContent = "Click two points on the scan to measure.";
    clearButton.disabled = true;
  }

  // Drawn over the meshes (no depth test; transparent objects render after opaque ones) so a
  // marker or the line is never hidden inside the surface.
  function overlay(object) {
    object.material.depthTest = false;
    object.material.transparent = true;
    object.renderOrder = 10;
    measureGroup.add(object);
  }

  function addPoint(point) {
    if (points.length === 2) clearMeasurement();
    points.push(point.clone());
    const marker = new THREE.Mesh(
      new THREE.SphereGeometry(sceneRadius * 0.012, 16, 12),
      new THREE.MeshBasicMaterial({ color: MEASURE }),
    );
    marker.position.copy(point);
    overlay(marker);
    clearButton.disabled = false;
    if (points.length === 1) {
      hint.textContent = "Click a second point.";
    } else {
      overlay(
        new THREE.Line(
          new THREE.BufferGeometry().setFromPoints(points),
          new THREE.LineBasicMaterial({ color: MEASURE }),
        ),
      );
      // The web mesh is in millimetres, so a distance in scene units is one in mm.
      const mm = points[0].distanceTo(points[1]).toFixed(2);
      distanceOut.textContent = `${mm} mm`;
      root.dataset.measuredMm = mm;
      hint.textContent = "Distance:";
    }
    render();
  }

  const raycaster = new THREE.Raycaster();
  let press = null;

  canvas.addEventListener("pointerdown", (event) => {
    press = event.button === 0 ? { x: event.clientX, y: event.clientY } : null;
  });
  canvas.addEventListener("pointerup", (event) => {
    if (!press || event.button !== 0) return;
    const moved = Math.hypot(event.clientX - press.x, event.clientY - press.y);
    press = null;
    if (moved > CLICK_SLOP_PX) return;
    const rect = canvas.getBoundingClientRect();
    const ndc = new THREE.Vector2(
      ((event.clientX - rect.left) / rect.width) * 2 - 1,
      -((event.clientY - rect.top) / rect.height) * 2 + 1,
    );
    raycaster.setFromCamera(ndc, camera);
    const [hit] = raycaster.intersectObjects(visibleMeshes(), false);
    if (hit) addPoint(hit.point);
  });

  clearButton.addEventListener("click", () => {
    clearMeasurement();
    render();
  });
  resetButton.addEventListener("click", resetView);

  for (const toggle of toggles) {
    toggle.addEventListener("change", () => {
      const mesh = meshes.get(toggle);
      if (!mesh) return;
      mesh.visible = toggle.checked;
      render();
      publish();
    });
  }

  // ---- Loading ------------------------------------------------------------------------------

  const loader = new PLYLoader();

  async function load(toggle) {
    const geometry = await loader.loadAsync(toggle.dataset.meshUrl);
    geometry.computeVertexNormals(); // the web mesh carries none
    const arch = toggle.dataset.arch;
    const mesh = new THREE.Mesh(geometry, material(geometry, arch));
    mesh.userData.arch = arch;
    mesh.visible = toggle.checked;
    return [toggle, mesh];
  }

  new ResizeObserver(resize).observe(canvas);
  resize();

  Promise.all(toggles.map(load)).then(
    (loaded) => {
      for (const [toggle, mesh] of loaded) {
        meshes.set(toggle, mesh);
        scene.add(mesh);
      }
      resetView();
      publish();
      status.hidden = true;
      root.dataset.state = "ready";
    },
    () => fail("The 3D scans could not be loaded. Reload the page to try again."),
  );
}
