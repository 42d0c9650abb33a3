"""The wall screen participants watch: a header with the phase and its countdown, and one
tile per participant (``WallScreen``), placed full screen with ``place_on`` on the screen
``default_wall_screen`` picks; ``render_wall_image`` draws it offscreen."""

from ui.wall.screen import WallScreen, default_wall_screen, render_wall_image

__all__ = ["WallScreen", "default_wall_screen", "render_wall_image"]
