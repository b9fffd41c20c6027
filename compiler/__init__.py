"""mobilec: an ahead-of-time compiler from ONNX MobileCLIP image encoders to C."""
__version__ = "0.1.0"
