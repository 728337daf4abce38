from . import ai_image_generation_request
from . import ai_model
from . import generated_image
from . import request_queue
