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
// data-meshes, data-visible-meshes, data-visible-arches, data-triangles and data-measured-mm.
import * as THREE from "/static/vendor/three/three.module.js";
import { OrbitControls } from "/static/vendor/three/addons/controls/OrbitControls.js";
import { PLYLoader } from "/static/vendor/three/addons/loaders/PLYLoader.js";

const BACKGROUND = 0xe9eef3;
const TOOTH = 0xf1eadc; // a neutral enamel shade for scans without colour
const BITE = 0xc9d6e3; // the bite registration, told apart from the arches it overlaps
const MEASURE = 0xd9480f;
const CLICK_SLOP_PX = 4; // a press that moves further than this is an orbit, not a pick

const root = document.querySelector("[data-viewer]");
if (root) start(root);

function start(root) {
  const canvas = root.querySelector("[data-canvas]");
  const status = root.querySelector("[data-status]");
  const toggles = Array.from(root.querySelectorAll("input[data-mesh-toggle][data-mesh-url]"));
  const distanceOut = root.querySelector("[data-distance]");
  const hint = root.querySelector("[data-measure-hint]");
  const clearButton = root.querySelector("[data-clear-measure]");
  const resetButton = root.querySelector("[data-reset-view]");

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

  /** Frame every loaded mesh: the camera looks at the set's centre from the front. */
  function resetView() {
    const box = new THREE.Box3();
    for (const mesh of meshes.values()) box.expandByObject(mesh);
    if (box.isEmpty()) return;
    const sphere = box.getBoundingSphere(new THREE.Sphere());
    sceneRadius = Math.max(sphere.radius, 1);
    const distance = sceneRadius / Math.sin(THREE.MathUtils.degToRad(camera.fov / 2)) * 1.05;
    camera.near = distance / 100;
    camera.far = distance * 10;
    camera.up.set(0, 1, 0);
    camera.position.copy(sphere.center).add(new THREE.Vector3(0, 0.35, 1).normalize().multiplyScalar(distance));
    camera.updateProjectionMatrix();
    controls.target.copy(sphere.center);
    controls.minDistance = sceneRadius * 0.05;
    controls.maxDistance = distance * 4;
    controls.update();
    render();
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
