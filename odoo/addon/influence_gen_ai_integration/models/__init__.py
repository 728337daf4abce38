from . import ai_image_generation_request
from . import generated_image
