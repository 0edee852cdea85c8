def product_data(sku="CEM-425", **extra) -> dict:
    return {"sku": sku, "name": "Cement CEM II 42.5, 25 kg", "unit": "bag", "price": "8.90"} | extra
