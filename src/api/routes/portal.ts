import path from "node:path";
import express, { type Router } from "express";

/**
 * The built portal at `/`: its files (5 min cache), and for any other GET of a page (HTML
 * accepted, no file extension) the portal's index.html, so that client-side routes load.
 */
export function portalRoutes(webRoot: string): Router {
  const router = express.Router();
  router.use(express.static(webRoot, { index: "index.html", maxAge: "5m", fallthrough: true }));
  router.use((req, res, next) => {
    if (
      (req.method !== "GET" && req.method !== "HEAD") ||
      !req.accepts("html") ||
      path.extname(req.path) !== ""
    )
      return next();
    res.locals.route = "portal";
    res.setHeader("Cache-Control", "no-cache");
    res.sendFile(path.join(webRoot, "index.html"), (error) => {
      if (error) next();
    });
  });
  return router;
}
